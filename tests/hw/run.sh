#!/usr/bin/env bash
# The real-kernel test suite: pmt, pmtx and ptape driven through Linux's sg, st
# and ch drivers inside a QEMU guest running a Debian 6.12 kernel (the host
# kernel needs no SCSI), against two device models written by others:
#   tgt    tgtd's emulated LTO drive and media changer, over iSCSI from the host;
#   mhvtl  mhVTL's pseudo HBA (mhvtl.ko, upstream source, upstream sg table size)
#          and daemons in the guest: an STK L700 with two LTO-8 drives, 10 slots,
#          2 import/export slots and a cleaning cartridge.
#
# Usage: tests/hw/run.sh [BIN_DIR]     BIN_DIR holds pmt, pmtx, ptape (default target/debug)
# Env:   HW_MODELS         device models to run, in order (default "tgt mhvtl")
#        HW_WORK           work folder (default tests/hw/work, git-ignored)
#        HW_GUEST_TIMEOUT  seconds one guest may run (default 1200)
#        HW_QEMU_ACCEL     QEMU accelerator (default tcg,thread=multi)
#        HW_GROUPS         only these check groups, e.g. "changer degraded" (guest/suite.sh)
#        HW_MHVTL_SRC      mhVTL source tarball (default ../shared/vendor/mhvtl-*.tar.gz)
# Prints one line per check ("[model] name") and "N passed, N failed"; exits 1
# when a check failed or a guest did not finish, 2 when the harness itself
# could not run. Logs: $HW_WORK/out/<time>/<model>/ (console.log, tgtd.log,
# share/results.txt, share/logs/NNN.log).
set -euo pipefail
HW_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HW_DIR/../.." && pwd)
BIN_DIR=$(realpath -m "${1:-$REPO/target/debug}")
WORK=${HW_WORK:-$HW_DIR/work}
MODELS=${HW_MODELS:-tgt mhvtl}
# shellcheck disable=SC1090  # the harness's own libraries, lib/*.sh
for f in common kernel tgt mhvtl image guest; do . "$HW_DIR/lib/$f.sh"; done

[ "$(id -u)" = 0 ] || die "run as root (apt-get, tgtd)"
for m in $MODELS; do
    case $m in tgt|mhvtl) ;; *) die "unknown device model '$m' in HW_MODELS (known: tgt mhvtl)";; esac
done
mkdir -p "$WORK"
exec 9>"$WORK/.lock"
flock -n 9 || die "another tests/hw/run.sh uses $WORK"
SECONDS=0

cleanup() {
    guest_stop
    tgt_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_packages
ensure_kernel

RUN=$WORK/out/$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUN"
# keep the last 5 runs
ls -d "$WORK"/out/*/ 2>/dev/null | sort | head -n -5 | xargs -r rm -rf

# run_model MODEL: build its image, start what it needs on the host, boot the
# guest; the checks' results land in $RUN/MODEL/share/results.txt.
run_model() {
    local model=$1 out=$RUN/$1 t0=$SECONDS guest_start
    mkdir -p "$out/share"
    [ "$model" = mhvtl ] && mhvtl_build
    build_image "$BIN_DIR" "$WORK/build/initramfs-$model.cpio.gz" "$model"
    if [ "$model" = tgt ]; then
        TGT_PORT=$(free_port) || die "no free TCP port in 3261..3299 on 127.0.0.1"
        TGT_CN=$((TGT_PORT - 3000))
        tgt_start "$out/tgtd.log"
        log "tgtd pid $TGT_PID on 127.0.0.1:$TGT_PORT (control channel $TGT_CN)"
    fi
    guest_start=$SECONDS
    run_guest "$WORK/build/initramfs-$model.cpio.gz" "$out/share" "$out/console.log" "$model" ||
        log "qemu exit code $?"
    log "[$model] guest ran $((SECONDS - guest_start)) s (model total $((SECONDS - t0)) s); console: $out/console.log"
    tgt_stop
}

pass=0; failed=0; xfail=0
for m in $MODELS; do
    run_model "$m"
done

# Summary: one line per check, then the counts.
echo
for m in $MODELS; do
    results=$RUN/$m/share/results.txt
    if [ -f "$results" ]; then
        while IFS=$'\t' read -r verdict name why; do
            case $verdict in
                PASS) pass=$((pass + 1)); echo "PASS  [$m] $name";;
                FAIL) failed=$((failed + 1)); echo "FAIL  [$m] $name"; echo "      $why (in $RUN/$m/share)";;
            # a known bug owned elsewhere (guest/lib.sh known_bug): reported, not counted as failed
            XFAIL) xfail=$((xfail + 1)); echo "XFAIL [$m] $name"; echo "      $why (in $RUN/$m/share)";;
            XPASS) pass=$((pass + 1)); echo "XPASS [$m] $name"; echo "      passes now: remove its known_bug marker ($why)";;
            esac
        done <"$results"
    fi
    if ! grep -q '^DONE' "$results" 2>/dev/null; then
        failed=$((failed + 1))
        echo "FAIL  [$m] guest suite ran to its end"
        echo "      console tail: $(tail -5 "$RUN/$m/console.log" 2>/dev/null | tr '\n' ' ')"
    fi
done
echo
log "logs: $RUN/<model> (per check: share/logs/NNN.log); total ${SECONDS} s"
[ "$xfail" -eq 0 ] || log "$xfail known bug(s) still present (XFAIL above)"
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
