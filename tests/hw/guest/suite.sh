#!/bin/sh
# The real-kernel suite, run by the guest's /init: the ptape tools (pmt, pmtx,
# ptape) against the device model's drives and changer through the kernel's
# sg, st and ch drivers, compared with the reference tools (mtx, mt-st, dd,
# lsscsi, sg_logs, sg_read_attr).
# Each group leaves the library as it found it (drives empty, cartridges home)
# so that one group's failure does not cascade into the next.
. /hw/lib.sh
. /hw/env.sh          # written by the host: model, expected identities and slot contents
mkdir -p "$LOGS"
# Everything read from tape lands in a small tmpfs of its own (see read_is).
GOT=/tmp/got
mkdir -p "$GOT" && mount -t tmpfs -o size=48m got "$GOT"
: >"$RESULTS"

# The devices as the kernel named them (sysfs type 1 = tape, 8 = changer);
# drives in SCSI address order: the first is the changer's drive 0.
TAPE_SG=; CHG_SG=; NST=; TAPE2_SG=; NST2=
for d in $(for s in /sys/class/scsi_generic/sg*; do
               echo "$(basename "$(readlink -f "$s/device")") $s"; done | sort -t: -n -k1,1 -k2,2 -k3,3 -k4,4 | cut -d' ' -f2); do
    case $(cat "$d/device/type" 2>/dev/null) in
        1) st=$(ls "$d/device/scsi_tape" 2>/dev/null | grep -E '^st[0-9]+$' | head -1)
           if [ -z "$TAPE_SG" ]; then TAPE_SG=/dev/${d##*/}; NST=/dev/n$st
           elif [ -z "$TAPE2_SG" ]; then TAPE2_SG=/dev/${d##*/}; NST2=/dev/n$st; fi;;
        8) [ -n "$CHG_SG" ] || CHG_SG=/dev/${d##*/};;
    esac
done
SCH=/dev/sch0
echo "[hw] model $HW_MODEL: tape $TAPE_SG ($NST), second tape ${TAPE2_SG:--} (${NST2:--}), changer $CHG_SG ($SCH)"

for g in library discovery changer drive_io interop short_reads degraded media ptape ptape_chain features; do
    # shellcheck disable=SC1090  # the group files beside this one
    . "/hw/$g.sh"
done

# HW_GROUPS (env.sh) selects groups by name; default: all of the model's, in
# this order (drive_empty before any group touches the drive: it needs the
# power-on UNIT ATTENTION still pending). tgt lacks most optional commands
# (group degraded checks the honest refusals); mhVTL has them (group
# features compares them with sg_logs, sg_read_attr, mt-st), a second
# drive, and runs the whole ptape chain.
case $HW_MODEL in
    tgt) ALL_GROUPS="discovery drive_empty changer drive_io interop short_reads degraded media ptape";;
    mhvtl) ALL_GROUPS="discovery drive_empty changer ptape_chain drive_io interop short_reads media features drive2 selftest";;
esac
if [ -z "$TAPE_SG" ] || [ -z "$CHG_SG" ] || { [ "$HW_DRIVES" = 2 ] && [ -z "$TAPE2_SG" ]; }; then
    check "guest sees the tape drives and the changer" fail "sg devices missing: tape='$TAPE_SG' tape2='$TAPE2_SG' changer='$CHG_SG'"
else
    for g in ${HW_GROUPS:-$ALL_GROUPS}; do
        "group_$g"
    done
fi
printf 'DONE\t%s\n' "$N" >>"$RESULTS"
echo "[hw] suite done: $N checks"
