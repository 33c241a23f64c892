# What tgt lacks and mhVTL models (groups features, drive2, selftest):
# cartridge memory, log pages, densities, long-form READ POSITION,
# encryption, a second drive and `pmt selftest`, each compared with a
# reference tool (sg_read_attr, sg_logs, sg_raw, mt-st, dd, mtx).

F=/tmp/feat

# ref_value FILE REGEX: the value after the last ': ' of the first line of
# FILE matching REGEX (grep -iE), spaces trimmed.
ref_value() { grep -iE -- "$2" "$1" | head -1 | sed 's/.*: *//; s/ *$//'; }

# mam_attr ID: pmt cartridge-memory's value of attribute ID (JSON in $OUT).
mam_attr() { jqo ".[] | select(.id == $1) | .value.value"; }

chk_mam_vs_sg_read_attr() {
    load_slot 3 || return 1
    run sg_read_attr -f 0x401 "$TAPE_SG"
    rc_is 0 "reference: sg_read_attr -f 0x401 (medium serial number)" || return 1
    cp "$OUT" "$F.serial"
    run sg_read_attr -f 3 "$TAPE_SG"
    rc_is 0 "reference: sg_read_attr -f 3 (load count)" || return 1
    cp "$OUT" "$F.loads"
    run sg_read_attr -f 0x400 "$TAPE_SG"
    rc_is 0 "reference: sg_read_attr -f 0x400 (medium manufacturer)" || return 1
    cp "$OUT" "$F.manuf"
    run pmt -f "$NST" cartridge-memory --output-format json
    rc_is 0 "pmt cartridge-memory" || return 1
    json_ok "pmt cartridge-memory" || return 1
    eq "$(mam_attr 1025)" "$(ref_value "$F.serial" 'serial')" "medium serial number (0x0401): pmt vs sg_read_attr" || return 1
    eq "$(mam_attr 3)" "$(ref_value "$F.loads" 'load count')" "load count (0x0003): pmt vs sg_read_attr" || return 1
    eq "$(mam_attr 1024)" "$(ref_value "$F.manuf" 'manufacturer')" "medium manufacturer (0x0400): pmt vs sg_read_attr" || return 1
    run pmt -f "$NST" cartridge-memory
    rc_is 0 "pmt cartridge-memory (text)" || return 1
    grep -q "$(mam_attr 1025 2>/dev/null)" "$OUT" || true
}

chk_volume_statistics_vs_sg_logs() {
    ensure_loaded 3 || return 1
    run sg_logs -p 0x17 "$TAPE_SG"
    rc_is 0 "reference: sg_logs -p 0x17" || return 1
    cp "$OUT" "$F.vs"
    run pmt -f "$NST" volume-statistics --output-format json
    rc_is 0 "pmt volume-statistics" || return 1
    json_ok "pmt volume-statistics" || return 1
    # parameter 0x0001: "volume mounts" (SSC-5), "thread count" in sg_logs 1.81
    eq "$(jqo '.volume_mounts')" "$(ref_value "$F.vs" '^ *(volume mounts|thread count):')" "volume mounts (0x0001): pmt vs sg_logs" || return 1
    eq "$(jqo '.total_native_capacity')" "$(ref_value "$F.vs" '^ *total native capacity')" "total native capacity MB (0x0013): pmt vs sg_logs" || return 1
    eq "$(jqo '.total_used_native_capacity')" "$(ref_value "$F.vs" '^ *total used native capacity')" "total used native capacity MB (0x0014): pmt vs sg_logs" || return 1
    eq "$(jqo '.lifetime_mbytes_written')" "$(ref_value "$F.vs" '^ *lifetime megabytes written')" "lifetime MB written (0x000e): pmt vs sg_logs" || return 1
    eq "$(jqo '.volume_serial_number // ""')" "$(ref_value "$F.vs" '^ *volume serial number')" "volume serial number (0x0040): pmt vs sg_logs" || return 1
}

# tape_alert_set FILE: numbers of the flags sg_logs -p 0x2e shows set (its
# decoded lines "  NAME: 0|1" come in flag order 1..64), one per line.
tape_alert_set() { grep -E '^ +.*: [01]$' "$1" | awk '$NF == 1 {print NR}'; }

chk_tape_alert_vs_sg_logs() {
    # A cleaning cartridge sets flag 11 "cleaning media" on mhVTL. The flags
    # clear when read (SSC-4 8.2.3; mhVTL clears on a LOG SENSE longer than
    # the header): pmt reads first and must see it, then sg_logs sees it cleared.
    run mtx -f "$CHG_SG" load "$HW_CLEAN_SLOT" 0
    rc_is 0 "reference: mtx load of the cleaning cartridge" || return 1
    sleep 1
    run pmt -f "$TAPE_SG" tape-alert-flags --output-format json
    rc_is 0 "pmt tape-alert-flags" || return 1
    json_ok "pmt tape-alert-flags" || return 1
    eq "$(jqo '[.[].flag] | map(tostring) | join(",")')" 11 "pmt tape-alert-flags with a cleaning cartridge: flags set" || return 1
    run sg_logs -p 0x2e "$TAPE_SG"
    rc_is 0 "reference: sg_logs -p 0x2e" || return 1
    cp "$OUT" "$F.ta"
    eq "$(tape_alert_set "$F.ta" | tr '\n' ' ')" "" "sg_logs -p 0x2e after pmt read the flags (cleared on read)" || return 1
    grep -E '^ +.*: [01]$' "$F.ta" | sed -n 11p | grep -qi "cleaning media" ||
        fail "sg_logs names flag 11 '$(grep -E '^ +.*: [01]$' "$F.ta" | sed -n 11p)', not cleaning media" || return 1
    # the drive holds the cleaning cartridge until its cleaning cycle ends
    _i=0
    until mtx -f "$CHG_SG" unload "$HW_CLEAN_SLOT" 0 >>"$LOG" 2>&1; do
        _i=$((_i + 1)); [ $_i -lt 90 ] || { fail "cleaning cartridge not unloadable after 180 s"; return 1; }
        sleep 2
    done
}

# rds_codes FILE: primary density codes of a REPORT DENSITY SUPPORT answer
# (4-byte header, 52-byte descriptors), decimal, one per line.
rds_codes() {
    _len=$(od -An -tu1 -N2 "$1" | awk '{print $1 * 256 + $2 + 2}')
    _o=4
    while [ $_o -lt "$_len" ]; do
        od -An -tu1 -j$_o -N1 "$1" | tr -d ' '
        _o=$((_o + 52))
    done
}

chk_density_vs_report_density() {
    ensure_loaded 3 || return 1
    rm -f "$F.rds" "$F.rdsm"
    run sg_raw -o "$F.rds" -r 4096 "$TAPE_SG" 44 00 00 00 00 00 00 10 00 00
    rc_is 0 "reference: sg_raw REPORT DENSITY SUPPORT" || return 1
    run sg_raw -o "$F.rdsm" -r 4096 "$TAPE_SG" 44 01 00 00 00 00 00 10 00 00
    rc_is 0 "reference: sg_raw REPORT DENSITY SUPPORT (MEDIA)" || return 1
    rds_codes "$F.rds" >"$F.rds.ref"
    rds_codes "$F.rdsm" >"$F.rdsm.ref"
    run pmt -f "$NST" density --output-format json
    rc_is 0 "pmt density" || return 1
    json_ok "pmt density" || return 1
    jqo '.drive[].primary_density_code' >"$F.rds.pmt"
    jqo '(.medium // [])[].primary_density_code' >"$F.rdsm.pmt"
    same_text "$F.rds.ref" "$F.rds.pmt" "drive densities: pmt vs REPORT DENSITY SUPPORT" || return 1
    same_text "$F.rdsm.ref" "$F.rdsm.pmt" "medium densities: pmt vs REPORT DENSITY SUPPORT (MEDIA=1)" || return 1
    # the density code of the loaded cartridge, as mt-st reports it
    run $MT -f "$NST" status
    ref=$(grep -o 'Density code 0x[0-9a-f]*' "$OUT" | awk '{print $3}')
    pmt_json status
    eq "$(printf '0x%x' "$(jqo '.density_code')")" "$ref" "density code: pmt status vs mt-st status" || return 1
}

chk_position_vs_mt_st() {
    # long-form READ POSITION: file number and logical object, compared with st's view
    library_home
    load_slot 3 || return 1
    random_file "$F.d" 20000 || return 1
    run $MT -f "$NST" setblk 0
    for i in 1 2 3; do
        run dd if="$F.d" of="$NST" bs=4096
        rc_is 0 "reference: dd (file $i)" || return 1
    done
    run $MT -f "$NST" rewind
    run $MT -f "$NST" fsf 2
    rc_is 0 "reference: mt-st fsf 2" || return 1
    run $MT -f "$NST" fsr 2
    rc_is 0 "reference: mt-st fsr 2" || return 1
    run $MT -f "$NST" tell
    rc_is 0 "reference: mt-st tell" || return 1
    tell=$(grep -o 'At block [0-9]*' "$OUT" | awk '{print $3}')
    run $MT -f "$NST" status
    ref_file=$(grep -o 'File number=[0-9-]*' "$OUT" | cut -d= -f2)
    ref_blk=$(grep -o 'block number=[0-9-]*' "$OUT" | cut -d= -f2)
    pmt_json status
    rc_is 0 "pmt status" || return 1
    eq "$(jqo '.position_form')" long "pmt status: READ POSITION form" || return 1
    eq "$(jqo '.logical_object_number')" "$tell" "logical object: pmt status vs mt-st tell" || return 1
    eq "$(jqo '.file_number')" "$ref_file" "file number: pmt status vs mt-st status" || return 1
    # the block inside the file needs the file's first object, which neither
    # form of READ POSITION carries: pmt may say unknown (null), never a wrong number
    _b=$(jqo '.block_number')
    [ "$_b" = null ] || eq "$_b" "$ref_blk" "block number in the file: pmt status vs mt-st status" || return 1
    # and back: pmt positions, st reports (st's counters are reset by its own rewind only)
    run $MT -f "$NST" rewind
    pmt_ok fsf 1 || return 1
    run $MT -f "$NST" tell
    eq "$(grep -o 'At block [0-9]*' "$OUT" | awk '{print $3}')" 6 "mt-st tell after pmt fsf 1 (5 blocks + 1 filemark)" || return 1
}

chk_encryption_round_trip() {
    ensure_loaded 3 || return 1
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$F.key"; echo >>"$F.key"
    random_file "$F.clear" 300000 || return 1
    pmt_ok encryption set --key-file "$F.key" || return 1
    pmt_json encryption status
    rc_is 0 "pmt encryption status" || return 1
    eq "$(jqo '.encrypting')" true "pmt encryption status after set: encrypting" || return 1
    pmt_ok rewind || return 1
    pmt_write "$F.clear" 65536 || return 1
    pmt_ok rewind || return 1
    read_is "$F.clear" "encrypted file read back with the key" || return 1
    # st reads the same file decrypted by the drive
    run $MT -f "$NST" rewind
    run dd if="$NST" of="$GOT/dd" bs=65536
    rc_is 0 "reference: dd reads the encrypted file with the key set" || return 1
    same_file "$F.clear" "$GOT/dd" "dd through st with the key set" || return 1
    pmt_ok encryption clear || return 1
    pmt_json encryption status
    eq "$(jqo '.encrypting')" false "pmt encryption status after clear: encrypting" || return 1
    pmt_ok rewind || return 1
    run_to "$GOT/got" pmt -f "$NST" read
    rc_failed "pmt read of an encrypted file without the key" || return 1
    [ ! -s "$GOT/got" ] || fail "pmt read without the key returned $(wc -c <"$GOT/got") bytes" || return 1
    run $MT -f "$NST" rewind
    run dd if="$NST" of="$GOT/dd" bs=65536
    rc_failed "reference: dd of an encrypted file without the key" || return 1
}

group_features() {
    group_start features
    mkdir -p "${F%/*}"
    check "pmt cartridge-memory agrees with sg_read_attr (serial, manufacturer, load count)" chk_mam_vs_sg_read_attr
    check "pmt volume-statistics agrees with sg_logs -p 0x17 (mounts, capacities, MB written, volume serial)" chk_volume_statistics_vs_sg_logs
    check "pmt density agrees with REPORT DENSITY SUPPORT (drive, medium) and mt-st's density code" chk_density_vs_report_density
    check "pmt status position (long form) agrees with mt-st tell/status; pmt fsf seen by st" chk_position_vs_mt_st
    check "pmt encryption set: write/read back (pmt and dd), clear: reads refused" chk_encryption_round_trip
    group_start features_tape_alert
    check "pmt tape-alert-flags: cleaning media flag, as sg_logs -p 0x2e names it, cleared on read" chk_tape_alert_vs_sg_logs
}

# The second drive: addressed by its own nodes and by the changer's drive 1.
chk_drive2() {
    b=$(bc_of 5)
    run pmtx -f "$SCH" load --barcode "$b" --drivenum 1
    rc_is 0 "pmtx load --barcode $b --drivenum 1" || return 1
    mtx_has "drive 1 full $b from 5" "after pmtx load to drive 1" || return 1
    wait_ready "$TAPE2_SG" || return 1
    run pmt -f "$NST2" status --output-format json
    rc_is 0 "pmt -f $NST2 status" || return 1
    eq "$(jqo '.serial')" "$HW_DRIVE2_SERIAL" "pmt status on drive 1: serial" || return 1
    eq "$(jqo '.medium_present')" true "pmt status on drive 1: medium_present" || return 1
    random_file "$F.d2" 123457 || return 1
    run pmt -f "$NST2" rewind
    rc_is 0 "pmt rewind (drive 1)" || return 1
    run_in "$F.d2" pmt -f "$NST2" write --block-size 32768
    rc_is 0 "pmt write (drive 1)" || return 1
    run $MT -f "$NST2" rewind
    run dd if="$NST2" of="$GOT/d2" bs=32768
    rc_is 0 "reference: dd from $NST2" || return 1
    same_file "$F.d2" "$GOT/d2" "dd reads what pmt wrote on drive 1" || return 1
    # drive 0 is untouched by all this
    mtx_has "drive 0 empty" "drive 0 while drive 1 works" || return 1
    run pmtx -f "$SCH" unload --drivenum 1
    rc_is 0 "pmtx unload --drivenum 1" || return 1
    mtx_has "slot 5 full $b" "after pmtx unload --drivenum 1" || return 1
    agree "after drive 1 load/unload"
}

group_drive2() {
    group_start drive2
    mkdir -p "${F%/*}"
    check "second drive: pmtx load to drive 1, pmt write there, dd reads it via its own nst" chk_drive2
}

chk_selftest() {
    load_slot 7 || return 1
    # CMD_TIMEOUT: the step of the speed measurement moves 2 x 4 MiB through a TCG guest
    CMD_TIMEOUT=300
    # --force: every data cartridge holds a ptape label after group ptape_chain
    run pmt -f "$NST" selftest --quick --force --speed-size 4194304 --changer "$SCH" --drivenum 0 --output-format json
    CMD_TIMEOUT=60
    rc_is 0 "pmt selftest --quick --changer" || return 1
    json_ok "pmt selftest" || return 1
    eq "$(jqo '.ok')" true "pmt selftest: ok" || return 1
    eq "$(jqo '[.steps[] | select(.result != "pass")] | length')" 0 "pmt selftest: steps not passed: $(jqo '[.steps[] | select(.result != "pass") | .step] | join(",")')" || return 1
    note "write $(jqo '.write_mb_per_s') MB/s, read $(jqo '.read_mb_per_s') MB/s"
    mtx_has "drive 0 full $(bc_of 7) from 7" "after pmt selftest (unloaded and loaded again through the changer)" || return 1
}

group_selftest() {
    group_start selftest
    check "pmt selftest --quick with the changer: every step passes" chk_selftest
}
