#!/usr/bin/env bash
# The real-kernel test suite: pmt, pmtx (and ptape) driven through Linux's sg,
# st and ch drivers against tgt's emulated LTO drive and media changer, inside
# a QEMU guest running a Debian 6.12 kernel (the host kernel needs no SCSI).
#
# Usage: tests/hw/run.sh [BIN_DIR]     BIN_DIR holds pmt, pmtx, ptape (default target/debug)
# Env:   HW_WORK           work folder (default tests/hw/work, git-ignored)
#        HW_GUEST_TIMEOUT  seconds the guest may run (default 240)
#        HW_QEMU_ACCEL     QEMU accelerator (default tcg,thread=multi)
#        HW_GROUPS         only these check groups, e.g. "changer degraded" (guest/suite.sh)
# Prints one line per check and "N passed, N failed"; exits 1 when a check
# failed or the guest did not finish, 2 when the harness itself could not run.
# Logs: $HW_WORK/out/<time>/ (console.log, tgtd.log, share/results.txt, share/logs/NNN.log).
set -euo pipefail
HW_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HW_DIR/../.." && pwd)
BIN_DIR=$(realpath -m "${1:-$REPO/target/debug}")
WORK=${HW_WORK:-$HW_DIR/work}
# shellcheck disable=SC1090  # the harness's own libraries, lib/*.sh
for f in common kernel tgt image guest; do . "$HW_DIR/lib/$f.sh"; done

[ "$(id -u)" = 0 ] || die "run as root (apt-get, tgtd)"
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

OUT=$WORK/out/$(date +%Y%m%d-%H%M%S)
SHARE=$OUT/share
mkdir -p "$SHARE"
# keep the last 5 runs
ls -d "$WORK"/out/*/ 2>/dev/null | sort | head -n -5 | xargs -r rm -rf

build_image "$BIN_DIR" "$WORK/build/initramfs.cpio.gz"

TGT_PORT=$(free_port) || die "no free TCP port in 3261..3299 on 127.0.0.1"
TGT_CN=$((TGT_PORT - 3000))
tgt_start "$OUT/tgtd.log"
log "tgtd pid $TGT_PID on 127.0.0.1:$TGT_PORT (control channel $TGT_CN)"

guest_start=$SECONDS
run_guest "$WORK/build/initramfs.cpio.gz" "$SHARE" "$OUT/console.log" || log "qemu exit code $?"
log "guest ran $((SECONDS - guest_start)) s; console: $OUT/console.log"
tgt_stop

# Summary: one line per check, then the counts.
RESULTS=$SHARE/results.txt
pass=0; failed=0
echo
if [ -f "$RESULTS" ]; then
    while IFS=$'\t' read -r verdict name why; do
        case $verdict in
            PASS) pass=$((pass + 1)); echo "PASS  $name";;
            FAIL) failed=$((failed + 1)); echo "FAIL  $name"; echo "      $why";;
        esac
    done <"$RESULTS"
fi
if ! grep -q '^DONE' "$RESULTS" 2>/dev/null; then
    failed=$((failed + 1))
    echo "FAIL  guest suite ran to its end"
    echo "      console tail: $(tail -5 "$OUT/console.log" 2>/dev/null | tr '\n' ' ')"
fi
echo
log "logs: $OUT (per check: share/logs/NNN.log); total ${SECONDS} s"
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
