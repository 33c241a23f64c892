#!/bin/sh
# The real-kernel suite, run by the guest's /init: the ptape tools (pmt, pmtx,
# ptape) against tgt's emulated drive and changer through the kernel's sg, st
# and ch drivers, compared with the reference tools (mtx, mt-st, dd, lsscsi).
# Each group leaves the library as it found it (drive empty, cartridges home)
# so that one group's failure does not cascade into the next.
. /hw/lib.sh
. /hw/env.sh          # written by the host: expected identities and slot contents
mkdir -p "$LOGS"
# Everything read from tape lands in a small tmpfs of its own (see read_is).
GOT=/tmp/got
mkdir -p "$GOT" && mount -t tmpfs -o size=48m got "$GOT"
: >"$RESULTS"

# The devices as the kernel named them (sysfs type 1 = tape, 8 = changer).
TAPE_SG=; CHG_SG=
for d in /sys/class/scsi_generic/sg*; do
    case $(cat "$d/device/type" 2>/dev/null) in
        1) [ -n "$TAPE_SG" ] || TAPE_SG=/dev/${d##*/};;
        8) [ -n "$CHG_SG" ] || CHG_SG=/dev/${d##*/};;
    esac
done
NST=/dev/nst0
SCH=/dev/sch0
echo "[hw] tape $TAPE_SG ($NST), changer $CHG_SG ($SCH)"

for g in library discovery changer drive_io interop short_reads degraded media ptape; do
    # shellcheck disable=SC1090  # the group files beside this one
    . "/hw/$g.sh"
done

# HW_GROUPS (env.sh) selects groups by name; default: all, in this order
# (drive_empty before any group touches the drive: it needs the power-on UNIT
# ATTENTION still pending).
ALL_GROUPS="discovery drive_empty changer drive_io interop short_reads degraded media ptape"
if [ -z "$TAPE_SG" ] || [ -z "$CHG_SG" ]; then
    check "guest sees the tape drive and the changer" fail "sg devices missing: tape='$TAPE_SG' changer='$CHG_SG'"
else
    for g in ${HW_GROUPS:-$ALL_GROUPS}; do
        "group_$g"
    done
fi
printf 'DONE\t%s\n' "$N" >>"$RESULTS"
echo "[hw] suite done: $N checks"
