# pmtx against the kernel's sg driver and the model's changer, element by element
# against `mtx status`. Slot numbers are mtx's: storage slots 1.., then the
# import/export slots; drives from 0.

# pmtx_state FILE: `pmtx status --output-format json` normalised like mtx_state.
pmtx_state() {
    run pmtx -f "$SCH" status --output-format json
    rc_is 0 "pmtx status" || return 1
    json_ok "pmtx status" || return 1
    jq -r '
        def el(kind): if .full then "\(kind) \(.number) full \(.barcode // "-")" else "\(kind) \(.number) empty" end;
        (.drives[] | if .full then "drive \(.index) full \(.barcode // "-") from \(.source_slot // "?")"
                     else "drive \(.index) empty" end),
        (.slots[] | el("slot")),
        (.import_export[] | el("ie"))' "$OUT" >"$1" 2>>"$LOG" || fail "pmtx status: JSON lacks drives/slots/import_export" || return 1
}

# agree WHAT: pmtx status and mtx status describe every element alike.
agree() {
    pmtx_state /tmp/pmtx.state || return 1
    mtx_state /tmp/mtx.state
    same_text /tmp/mtx.state /tmp/pmtx.state "$1: pmtx status vs mtx status"
}

chk_changer_status() {
    mtx_state /tmp/mtx.state
    note "mtx: $(tr '\n' ';' </tmp/mtx.state)"
    # the reference itself must show what tgt was given
    grep -qxF "slot 1 full $(bc_of 1)" /tmp/mtx.state || fail "reference mtx status unexpected" || return 1
    agree "initial state"
}

chk_changer_inquiry() {
    run pmtx -f "$CHG_SG" inquiry --output-format json
    rc_is 0 "pmtx inquiry" || return 1
    json_ok "pmtx inquiry" || return 1
    e=$(cat "$OUT")
    entry_has "$e" "$HW_CHANGER_VENDOR" "pmtx inquiry: vendor" || return 1
    entry_has "$e" "$HW_CHANGER_PRODUCT" "pmtx inquiry: product" || return 1
    mtx -f "$CHG_SG" inquiry >/tmp/mtx.inq 2>&1
    grep -q "Product ID: '$HW_CHANGER_PRODUCT" /tmp/mtx.inq || fail "reference mtx inquiry: $(tr '\n' ' ' </tmp/mtx.inq)" || return 1
}

chk_changer_load() {
    run pmtx -f "$SCH" load 1 --drivenum 0
    rc_is 0 "pmtx load 1" || return 1
    mtx_has "drive 0 full $(bc_of 1) from 1" "after pmtx load 1" || return 1
    mtx_has "slot 1 empty" "after pmtx load 1" || return 1
    agree "after load"
}

chk_changer_unload() {
    run pmtx -f "$SCH" unload --drivenum 0
    rc_is 0 "pmtx unload" || return 1
    mtx_has "drive 0 empty" "after pmtx unload" || return 1
    mtx_has "slot 1 full $(bc_of 1)" "after pmtx unload (back to the source slot)" || return 1
    agree "after unload"
}

chk_changer_load_barcode() {
    b3=$(bc_of 3); fr=$HW_FREE_SLOT
    run pmtx -f "$CHG_SG" load --barcode "$b3" --drivenum 0
    rc_is 0 "pmtx load --barcode $b3" || return 1
    mtx_has "drive 0 full $b3 from 3" "after load by barcode" || return 1
    run pmtx -f "$CHG_SG" unload --drivenum 0 --target-slot "$fr"
    rc_is 0 "pmtx unload --target-slot $fr" || return 1
    mtx_has "slot $fr full $b3" "after unload to slot $fr" || return 1
    mtx_has "slot 3 empty" "after unload to slot $fr" || return 1
    agree "after unload to another slot" || return 1
    run pmtx -f "$CHG_SG" transfer "$fr" 3
    rc_is 0 "pmtx transfer $fr 3" || return 1
    mtx_has "slot 3 full $b3" "after transfer back" || return 1
}

chk_changer_transfer() {
    b2=$(bc_of 2); fr=$HW_FREE_SLOT
    run pmtx -f "$SCH" transfer 2 "$fr"
    rc_is 0 "pmtx transfer 2 $fr" || return 1
    mtx_has "slot $fr full $b2" "after transfer 2 $fr" || return 1
    mtx_has "slot 2 empty" "after transfer 2 $fr" || return 1
    agree "after transfer" || return 1
    run pmtx -f "$SCH" transfer "$fr" 2
    rc_is 0 "pmtx transfer $fr 2" || return 1
    mtx_has "slot 2 full $b2" "after transfer back" || return 1
}

chk_changer_export_import() {
    b4=$(bc_of 4); ie=$HW_IE_FIRST
    run pmtx -f "$SCH" export "$b4"
    rc_is 0 "pmtx export $b4" || return 1
    mtx_has "ie $ie full $b4" "after export" || return 1
    mtx_has "slot 4 empty" "after export" || return 1
    agree "after export" || return 1
    run pmtx -f "$SCH" import "$b4"
    rc_is 0 "pmtx import $b4" || return 1
    mtx_has "ie $ie empty" "after import" || return 1
    mtx_state /tmp/mtx.state
    grep -q "^slot [0-9]* full $b4\$" /tmp/mtx.state || fail "after import: $b4 in no storage slot" || return 1
    agree "after import" || return 1
    # put it home for the next groups (import may choose any free slot)
    s=$(awk -v b="$b4" '$4 == b {print $2}' /tmp/mtx.state)
    [ "$s" = 4 ] || mtx -f "$CHG_SG" transfer "$s" 4 >>"$LOG" 2>&1
}

# illegal MOVE WHAT REGEX: a pmtx move that must fail cleanly, state unchanged.
illegal() {
    mtx_state /tmp/before.state
    run pmtx -f "$SCH" $1
    rc_failed "pmtx $1" || return 1
    err_has "$3" "pmtx $1 ($2)" || return 1
    mtx_state /tmp/after.state
    same_text /tmp/before.state /tmp/after.state "pmtx $1 must not change the library"
}

chk_changer_illegal() {
    illegal "load $HW_FREE_SLOT --drivenum 0" "empty slot" "empty" || return 1
    illegal "transfer 1 2" "full destination" "full|occupied" || return 1
    illegal "unload --drivenum 0" "empty drive" "empty|no (cartridge|medium)" || return 1
    illegal "transfer 1 42" "no such slot" "42" || return 1
    illegal "load --barcode XYZ999L9 --drivenum 0" "unknown barcode" "XYZ999L9" || return 1
}

chk_changer_exchange() {
    # neither tgt nor mhVTL has EXCHANGE MEDIUM: the device's ILLEGAL REQUEST must come through decoded.
    illegal "exchange 5 6" "EXCHANGE MEDIUM unsupported" "ILLEGAL REQUEST|not supported" || return 1
    err_has "05/20|20/?00|invalid command operation code|opcode" "pmtx exchange: decoded sense" || return 1
}

chk_changer_inventory() {
    run pmtx -f "$SCH" inventory --output-format json
    rc_is 0 "pmtx inventory" || return 1
    json_ok "pmtx inventory" || return 1
    agree "after inventory"
}

# sequence TOOL: first, next, next, previous on drive 0 from the initial
# layout; the mtx state after each step goes to /tmp/seq.TOOL.
sequence() {
    : >"/tmp/seq.$1"
    for op in first next next previous; do
        if [ "$1" = mtx ]; then
            mtx -f "$CHG_SG" "$op" 0 >>"$LOG" 2>&1
        else
            run pmtx -f "$SCH" "$op" --drivenum 0
        fi
        echo "after $op: rc=$([ "${RC:-0}" = 0 ] && echo ok || echo failed)" >>"/tmp/seq.$1"
        mtx_state /tmp/seq.state
        cat /tmp/seq.state >>"/tmp/seq.$1"
        RC=0
    done
}

chk_changer_sequence() {
    sequence mtx
    library_home
    sequence pmtx
    same_text /tmp/seq.mtx /tmp/seq.pmtx "pmtx first/next/next/previous vs mtx" || return 1
    # last: pmtx wants an empty drive and skips cleaning cartridges (docs/pmtx.md),
    # where mtx would unload first and load the cleaning cartridge from the last slot
    run pmtx -f "$SCH" unload --drivenum 0
    rc_is 0 "pmtx unload" || return 1
    run pmtx -f "$SCH" last --drivenum 0
    rc_is 0 "pmtx last" || return 1
    ls=$(last_data_slot)
    mtx_has "drive 0 full $(bc_of "$ls") from $ls" "after pmtx last (last data cartridge)" || return 1
}

chk_changer_clean() {
    run pmtx -f "$SCH" clean --drivenum 0
    rc_is 0 "pmtx clean --drivenum 0" || return 1
    mtx_has "drive 0 empty" "after pmtx clean" || return 1
    mtx_has "slot $HW_CLEAN_SLOT full $(bc_of "$HW_CLEAN_SLOT")" "after pmtx clean: the cleaning cartridge is back" || return 1
}

group_changer() {
    group_start changer
    check "pmtx status agrees with mtx status element by element" chk_changer_status
    check "pmtx inquiry shows the changer identity like mtx inquiry" chk_changer_inquiry
    check "pmtx load 1: mtx shows slot 1's cartridge in drive 0, slot 1 empty" chk_changer_load
    check "pmtx unload: cartridge back in its source slot" chk_changer_unload
    check "pmtx load --barcode, unload --target-slot, transfer back" chk_changer_load_barcode
    check "pmtx transfer 2 to a free slot and back" chk_changer_transfer
    check "pmtx export / import through the import/export slot" chk_changer_export_import
    check "pmtx illegal moves fail cleanly and change nothing" chk_changer_illegal
    check "pmtx exchange: device's ILLEGAL REQUEST decoded, nothing moved" chk_changer_exchange
    check "pmtx inventory (INITIALIZE ELEMENT STATUS) then status" chk_changer_inventory
    group_start changer_sequence
    check "pmtx first/next/next/previous move like mtx's; last loads the last data slot" chk_changer_sequence
    group_start changer_clean
    check "pmtx clean: loads the cleaning cartridge, waits, puts it back" chk_changer_clean
}
