# Discovery: `pmt scan` / `pmtx scan` read /sys and must agree with lsscsi -g
# and with the identity the model was configured with (env.sh).

# scan_entry SG: the JSON object of the last scan output that names SG
# (accepts a top-level array or an object holding one array).
scan_entry() {
    jq -c --arg sg "$1" '(if type == "array" then . else ([.[] | arrays] | add // []) end)
        | map(select([.. | strings] | index($sg))) | .[0] // empty' "$OUT" 2>>"$LOG"
}

# field_is JSON FIELDS VALUE WHAT: the entry's first present field of FIELDS
# ("a|b": names used by pmt and pmtx) equals VALUE (spaces trimmed).
field_is() {
    _v=$(printf '%s' "$1" | jq -r --arg f "$2" '. as $e | [($f | split("|"))[] | $e[.] | select(. != null)]
        | .[0] // "(missing)" | if type == "string" then gsub("^ +| +$"; "") else tostring end' 2>>"$LOG")
    eq "$_v" "$3" "$4 ($2)"
}

# entry_has JSON VALUE WHAT: VALUE is one of the entry's string fields (trimmed).
entry_has() {
    [ -n "$1" ] && printf '%s' "$1" | jq -e --arg v "$2" '[.. | strings | gsub("^ +| +$"; "")] | index($v)' >/dev/null 2>&1 && return 0
    fail "$3: '$2' not in $1"
}

# lsscsi_line TYPE: the `lsscsi -g` line of the device of that type (tape, mediumx).
lsscsi_line() { $LSSCSI -g | awk -v t="$1" '$2 == t'; }

chk_lsscsi_reference() {
    run $LSSCSI -g
    rc_is 0 "lsscsi -g" || return 1
    grep -q " tape .*$TAPE_SG" "$OUT" || fail "lsscsi -g: no tape drive on $TAPE_SG" || return 1
    grep -q " mediumx .*$CHG_SG" "$OUT" || fail "lsscsi -g: no changer on $CHG_SG" || return 1
}

# chk_scan TOOL SG NODE VENDOR MODEL SERIAL LSSCSI_TYPE
chk_scan() {
    run "$1" scan --output-format json
    rc_is 0 "$1 scan" || return 1
    json_ok "$1 scan" || return 1
    e=$(scan_entry "$2")
    [ -n "$e" ] || fail "$1 scan: no device with sg path $2 in $(head -c 300 "$OUT")" || return 1
    note "entry: $e"
    field_is "$e" "sg_path|path" "$2" "$1 scan" || return 1
    field_is "$e" "device_path|sch_path|nst_path" "$3" "$1 scan" || return 1
    field_is "$e" vendor "$4" "$1 scan" || return 1
    field_is "$e" "model|product" "$5" "$1 scan" || return 1
    field_is "$e" serial "$6" "$1 scan" || return 1
    # the same device, vendor and model as lsscsi -g shows
    line=$(lsscsi_line "$7")
    note "lsscsi: $line"
    case $line in *"$4"*"$5"*"$2"*) ;; *) fail "lsscsi -g line '$line' does not show $4 $5 $2"; return 1;; esac
    # the text output names the device too
    run "$1" scan
    rc_is 0 "$1 scan (text)" || return 1
    grep -q "$2" "$OUT" || fail "$1 scan (text) does not mention $2" || return 1
}

chk_pmt_scan() {
    chk_scan pmt "$TAPE_SG" "$NST" "$HW_DRIVE_VENDOR" "$HW_DRIVE_PRODUCT" "$HW_DRIVE_SERIAL" tape
}

chk_pmtx_scan() {
    chk_scan pmtx "$CHG_SG" "$SCH" "$HW_CHANGER_VENDOR" "$HW_CHANGER_PRODUCT" "$HW_CHANGER_SERIAL" mediumx
}

group_discovery() {
    check "reference: lsscsi -g lists the drive and the changer" chk_lsscsi_reference
    check "pmt scan finds the drive (vendor, model, serial, sg, nst) like lsscsi -g" chk_pmt_scan
    check "pmtx scan finds the changer (vendor, model, serial, sg, sch) like lsscsi -g" chk_pmtx_scan
}
