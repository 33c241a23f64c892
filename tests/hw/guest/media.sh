# Medium handling and drive options through the kernel: eject/load,
# prevent/allow medium removal, MODE SELECT of block size and buffer mode,
# each verified by a MODE SENSE of our own (sg_raw) or by the changer (mtx).

M=/tmp/media

# mode_header: MODE SENSE(6) header + block descriptor into $M/ms (12 bytes).
mode_header() {
    mkdir -p "$M"
    rm -f "$M/ms"
    sg_raw -o "$M/ms" -r 12 "$TAPE_SG" 1a 00 00 00 0c 00 >>"$LOG" 2>&1
    [ "$(wc -c <"$M/ms" 2>/dev/null)" = 12 ] || fail "reference: MODE SENSE(6) via sg_raw failed"
}

# block_length: block length from the block descriptor (bytes 9..11).
block_length() { od -An -tu1 -j9 -N3 "$M/ms" | awk '{print $1 * 65536 + $2 * 256 + $3}'; }
# buffer_mode: BUFFER MODE field of the header (byte 2, bits 6..4).
buffer_mode() { od -An -tu1 -j2 -N1 "$M/ms" | awk '{print int($1 / 16) % 8}'; }

chk_eject_load() {
    load_slot 2 || return 1
    pmt_ok eject || return 1
    # the cartridge left the drive's control: the changer can take it back
    run mtx -f "$CHG_SG" unload 2 0
    rc_is 0 "reference: mtx unload after pmt eject" || return 1
    mtx_has "slot 2 full $(bc_of 2)" "after pmt eject + mtx unload" || return 1
    load_slot 2 || return 1
    if [ "$HW_MODEL" = mhvtl ]; then
        # mhVTL cannot reload a cartridge left in the drive's mouth: LOAD answers
        # NOT READY 02/31/00 (its rewind of the unloaded tape fails). mt-st shows
        # the same; pmt must pass the device's answer on, decoded, and the
        # changer must still be able to take the cartridge.
        run $MT -f "$NST" offline
        rc_is 0 "reference: mt-st offline" || return 1
        run $MT -f "$NST" load
        rc_failed "reference: mt-st load of an ejected cartridge (mhVTL: 02/31/00)" || return 1
        run pmt -f "$NST" load
        rc_failed "pmt load of an ejected cartridge (mhVTL: 02/31/00)" || return 1
        err_has "3100|format corrupted" "pmt load: the device's sense, decoded" || return 1
        run mtx -f "$CHG_SG" unload 2 0
        rc_is 0 "reference: mtx unload after the refused load" || return 1
        return 0
    fi
    pmt_ok eject || return 1
    pmt_ok load || return 1
    pmt_json status
    rc_is 0 "pmt status after pmt load" || return 1
    eq "$(jqo '.medium_present')" true "pmt status after eject + load: medium_present" || return 1
}

chk_lock_unlock() {
    # tgt's changer honours the drive's PREVENT MEDIUM REMOVAL (05/53/02 on MOVE
    # MEDIUM); mhVTL's library moves the cartridge out of a locked drive all the
    # same (docs/testing.md): there the lock is checked as accepted, and the
    # model's behaviour is asserted so that a change in it is noticed.
    mtx_state /tmp/mtx.state
    slot=$(awk '$1 == "drive" && $2 == 0 && $3 == "full" {print $6}' /tmp/mtx.state)
    [ -n "$slot" ] || { load_slot 2 || return 1; slot=2; }
    pmt_ok lock || return 1
    run mtx -f "$CHG_SG" unload "$slot" 0
    if [ "$HW_MODEL" = mhvtl ]; then
        rc_is 0 "reference: mhVTL's library unloads a locked drive (model quirk)" || return 1
        pmt_ok unlock || return 1
        mtx_has "slot $slot full $(bc_of "$slot")" "after mtx unload of the locked drive" || return 1
        return 0
    fi
    [ "$RC" != 0 ] || fail "reference: mtx unload succeeded although pmt lock prevents removal" || return 1
    grep -q "Additional Sense Code = 53" "$ERR" "$OUT" || fail "reference: mtx unload failed but not with 53/02: $(_first_err)" || return 1
    pmt_ok unlock || return 1
    run mtx -f "$CHG_SG" unload "$slot" 0
    rc_is 0 "reference: mtx unload after pmt unlock" || return 1
    mtx_has "slot $slot full $(bc_of "$slot")" "after pmt unlock + mtx unload" || return 1
}

chk_options_blocksize() {
    ensure_loaded 2 || return 1
    pmt_ok options --blocksize 4096 || return 1
    mode_header || return 1
    eq "$(block_length)" 4096 "MODE SENSE block length after pmt options --blocksize 4096" || return 1
    pmt_json status
    eq "$(jqo '.block_size')" 4096 "pmt status: block_size" || return 1
    pmt_ok options --blocksize 0 || return 1
    mode_header || return 1
    eq "$(block_length)" 0 "MODE SENSE block length after pmt options --blocksize 0 (variable)" || return 1
}

chk_options_buffer_mode() {
    # tgt accepts MODE SELECT but keeps buffer mode 1 whatever it is sent: pmt
    # must succeed and then report what the drive reports, not what was asked
    ensure_loaded 2 || return 1
    pmt_ok options --buffer-mode off || return 1
    mode_header || return 1
    pmt_json status
    rc_is 0 "pmt status" || return 1
    eq "$(jqo '.buffer_mode')" "$(buffer_mode)" "pmt status buffer_mode vs the drive's MODE SENSE" || return 1
    pmt_ok options --buffer-mode on || return 1
}

# compression_dce: DCE bit of the data compression page (MODE SENSE(6) page 0x0F).
compression_dce() {
    rm -f "$M/mc"
    sg_raw -o "$M/mc" -r 28 "$TAPE_SG" 1a 00 0f 00 1c 00 >>"$LOG" 2>&1
    od -An -tu1 -j14 -N1 "$M/mc" | awk '{print ($1 >= 128) ? "true" : "false"}'
}

chk_options_compression() {
    # tgt's drive cannot compress (DCC=0): pmt must not claim compression;
    # mhVTL's can (lzo): pmt must report what the drive's DCE bit says
    ensure_loaded 2 || return 1
    mkdir -p "$M"
    run pmt -f "$NST" options --compression on
    case $RC in
        0) ;;
        *) rc_failed "pmt options --compression on" || return 1
           err_has "compress" "pmt options --compression on on a drive without compression" || return 1;;
    esac
    dce=$(compression_dce)
    [ -n "$dce" ] || fail "reference: MODE SENSE page 0x0F via sg_raw failed" || return 1
    pmt_json status
    rc_is 0 "pmt status" || return 1
    eq "$(jqo '.compression')" "$dce" "pmt status compression vs the drive's DCE bit" || return 1
}

group_media() {
    group_start media
    check "pmt eject / load (LOAD UNLOAD; mhVTL: load refused like mt-st's), the changer takes the cartridge" chk_eject_load
    check "pmt options --blocksize: MODE SENSE shows it" chk_options_blocksize
    check "pmt options --buffer-mode: accepted; status shows the drive's value" chk_options_buffer_mode
    check "pmt options --compression: status shows the drive's DCE bit, no false claim" chk_options_compression
    check "pmt lock / unlock (tgt: the changer refuses with 53/02; mhVTL: moves anyway)" chk_lock_unlock
}
