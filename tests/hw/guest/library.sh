# Reference-tool helpers around the changer (mtx), shared by all groups:
# normalised `mtx status` and putting every cartridge back home.

# mtx_state FILE: `mtx status` normalised to one line per element:
#   "drive 0 full ABC001L9 from 1" / "drive 0 empty" / "slot 3 full ABC003L9" / "ie 9 empty"
mtx_state() {
    mtx -f "$CHG_SG" status 2>>"$LOG" | awk '
        function tag(s) { sub(/.*VolumeTag *= */, "", s); gsub(/[ \t]+$/, "", s); return s == "" ? "-" : s }
        /Data Transfer Element/ {
            n = $0; sub(/.*Data Transfer Element /, "", n); sub(/:.*/, "", n)
            if ($0 ~ /:Empty/) { print "drive " n " empty"; next }
            src = "?"; if (match($0, /Storage Element [0-9]+ Loaded/)) { src = substr($0, RSTART + 16, RLENGTH - 23) }
            print "drive " n " full " tag($0) " from " src; next }
        /Storage Element/ {
            n = $0; sub(/.*Storage Element /, "", n); sub(/[ :].*/, "", n)
            kind = ($0 ~ /IMPORT\/EXPORT/) ? "ie" : "slot"
            if ($0 ~ /:Empty/) print kind " " n " empty"; else print kind " " n " full " tag($0) }' >"$1"
}

# mtx_has LINE WHAT: mtx status now shows that element line.
mtx_has() {
    mtx_state /tmp/mtx.state
    grep -qxF "$1" /tmp/mtx.state && return 0
    fail "$2: mtx status lacks '$1': $(tr '\n' ';' </tmp/mtx.state)"
}

# bc_of SLOT: the barcode of the cartridge that starts in SLOT ("-" = empty).
bc_of() { echo "$HW_TAPES" | tr ' ' '\n' | sed -n "${1}p"; }

# last_data_slot: the highest slot that starts with a data (non-CLN) cartridge.
last_data_slot() { echo "$HW_TAPES" | tr ' ' '\n' | awk '$1 != "-" && $1 !~ /^CLN/ {n = NR} END {print n}'; }

# wait_ready SG [SECONDS]: TEST UNIT READY until it passes (clears the unit
# attention a changer load leaves; mhVTL's drive needs a moment to load).
wait_ready() {
    _i=0
    while [ $_i -lt $((${2:-30} * 5)) ]; do
        sg_turs "$1" >/dev/null 2>&1 && return 0
        sleep 0.2; _i=$((_i + 1))
    done
    fail "reference: $1 not ready after ${2:-30}s: $(sg_turs -v "$1" 2>&1 | tr '\n' ' ')"
}

# home_slot BARCODE: the slot the cartridge starts in (HW_TAPES order).
home_slot() {
    _i=0
    for _bc in $HW_TAPES; do
        _i=$((_i + 1))
        [ "$_bc" = "$1" ] && { echo "$_i"; return 0; }
    done
    return 1
}

# library_home: with mtx, empty the drive and put every cartridge in its home
# slot, so a group starts from the initial layout whatever the last one did.
library_home() {
    for _sg in $TAPE_SG $TAPE2_SG; do   # ALLOW MEDIUM REMOVAL, in case a check left a drive locked
        sg_raw "$_sg" 1e 00 00 00 00 00 >>"$LOG" 2>&1
    done
    mtx_state /tmp/home.state
    while read -r kind n st bc _; do
        [ "$st" = full ] || continue
        h=$(home_slot "$bc") || continue
        case $kind in
            drive) mtx -f "$CHG_SG" unload "$h" "$n" >>"$LOG" 2>&1;;
            slot|ie) [ "$n" = "$h" ] || mtx -f "$CHG_SG" transfer "$n" "$h" >>"$LOG" 2>&1;;
        esac
    done </tmp/home.state
}

# load_slot SLOT [DRIVE]: reference load into drive 0 (or DRIVE) with mtx, for
# groups that test pmt. tgt sends no UNIT ATTENTION after a load, so st keeps
# the state of the last cartridge (e.g. "at end of medium" after a long read,
# making the next write fail with ENOSPC); a rewind through st makes it start
# afresh, as a real changer's unit attention would.
load_slot() {
    _dn=${2:-0}
    mtx -f "$CHG_SG" load "$1" "$_dn" >>"$LOG" 2>&1 || { fail "reference: mtx load $1 $_dn failed"; return 1; }
    if [ "$_dn" = 0 ]; then _sg=$TAPE_SG; _nst=$NST; else _sg=$TAPE2_SG; _nst=$NST2; fi
    wait_ready "$_sg" || return 1
    $MT -f "$_nst" rewind >>"$LOG" 2>&1 || fail "reference: mt-st rewind after mtx load $1 failed"
}

# ensure_loaded SLOT: load SLOT unless the drive already holds a cartridge.
ensure_loaded() {
    mtx_state /tmp/mtx.state
    grep -q '^drive 0 full' /tmp/mtx.state || load_slot "$1"
}

# group_start NAME: start a group from the initial layout (log: logs/setup-NAME.log).
group_start() {
    LOG=$LOGS/setup-$1.log
    free >"$LOG"
    du -s /tmp >>"$LOG"
    library_home
}
