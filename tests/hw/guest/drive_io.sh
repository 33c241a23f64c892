# pmt's data path through the st/sg drivers: status, write, read, positioning.
# Tape files written here (the cartridge of slot 1):
#   file 0: f1 1 MiB in 256 KiB blocks   file 1: f2 320 KiB in 64 KiB blocks
#   file 2: f3 100001 bytes in 32 KiB blocks (last block 1697 bytes)
#   file 3: f4 50000 bytes in 16 KiB blocks (appended after `pmt eod`)
#   file 4: empty (`pmt weof`)            file 5: f5 7000 bytes in 1 KiB blocks

D=/tmp/dio
# pmt_json CMD...: `pmt -f $NST CMD --output-format json` (JSON in $OUT).
pmt_json() { run pmt -f "$NST" "$@" --output-format json; }

# pmt_ok CMD...: `pmt -f $NST CMD` must exit 0.
pmt_ok() {
    run pmt -f "$NST" "$@"
    rc_is 0 "pmt $*"
}

# pmt_write FILE BLOCKSIZE
pmt_write() {
    run_in "$1" pmt -f "$NST" write --block-size "$2"
    rc_is 0 "pmt write --block-size $2 < $1"
}

# read_is EXPECTED WHAT: `pmt read` returns exactly the bytes of EXPECTED.
# (The output goes to a small tmpfs: a reader that never stops fails with
# ENOSPC instead of filling the guest's memory.)
read_is() {
    run_to "$GOT/got" pmt -f "$NST" read
    rc_is 0 "pmt read ($2)" || return 1
    same_file "$1" "$GOT/got" "pmt read ($2)"
}

chk_drive_status_empty() {
    # The first command to the drive after attach: UNIT ATTENTION (power on) is pending.
    pmt_json status
    rc_is 0 "pmt status on an empty drive" || return 1
    json_ok "pmt status" || return 1
    eq "$(jqo '.medium_present')" false "pmt status: medium_present on an empty drive" || return 1
    eq "$(jqo '.serial')" "$HW_DRIVE_SERIAL" "pmt status: serial" || return 1
}

chk_drive_empty_error() {
    run pmt -f "$NST" rewind
    rc_failed "pmt rewind on an empty drive" || return 1
    err_has "no medium|not present|3A" "pmt rewind on an empty drive" || return 1
}

chk_drive_status_loaded() {
    load_slot 1 || return 1
    pmt_json status
    rc_is 0 "pmt status" || return 1
    json_ok "pmt status" || return 1
    eq "$(jqo '.medium_present')" true "pmt status: medium_present after mtx load" || return 1
    eq "$(jqo '.vendor')" "$HW_DRIVE_VENDOR" "pmt status: vendor" || return 1
    eq "$(jqo '.product')" "$HW_DRIVE_PRODUCT" "pmt status: product" || return 1
    eq "$(jqo '.write_protected')" false "pmt status: write_protected" || return 1
    # also through the sg node
    run pmt -f "$TAPE_SG" status --output-format json
    rc_is 0 "pmt -f $TAPE_SG status" || return 1
    eq "$(jqo '.medium_present')" true "pmt -f $TAPE_SG status: medium_present" || return 1
}

chk_drive_write_read() {
    mkdir -p "$D"
    random_file "$D/f1" 1048576 || return 1
    random_file "$D/f2" 327680 || return 1
    random_file "$D/f3" 100001 || return 1
    pmt_ok rewind || return 1
    pmt_write "$D/f1" 262144 || return 1
    pmt_write "$D/f2" 65536 || return 1
    pmt_write "$D/f3" 32768 || return 1
    pmt_ok rewind || return 1
    read_is "$D/f1" "file 0" || return 1
    read_is "$D/f2" "file 1" || return 1
    read_is "$D/f3" "file 2, short last block" || return 1
}

chk_drive_fsf() {
    pmt_ok rewind || return 1
    pmt_ok fsf 2 || return 1
    read_is "$D/f3" "after fsf 2" || return 1
}

chk_drive_st_node_untouched() {
    # pmt resolves /dev/st0 (the rewinding node) to its sg node and never opens
    # st itself: opening and closing st0 would rewind the tape
    pmt_ok rewind || return 1
    pmt_ok fsf 1 || return 1
    run pmt -f /dev/st0 status --output-format json
    rc_is 0 "pmt -f /dev/st0 status" || return 1
    eq "$(jqo '.device')" /dev/st0 "pmt -f /dev/st0 status: device" || return 1
    read_is "$D/f2" "file 1 after pmt -f /dev/st0 status (no rewind)" || return 1
}

chk_drive_block_too_large() {
    run_in "$D/f1" pmt -f "$NST" write --block-size 4194304
    rc_failed "pmt write --block-size 4 MiB" || return 1
    err_has "exceeds|larg" "pmt write with a block larger than the drive's limit" || return 1
}

chk_drive_bsf() {
    # from end of data (after file 2's filemark) bsf 2 stops before the
    # filemark of file 1, fsf 1 steps over it.
    pmt_ok eod || return 1
    pmt_ok bsf 2 || return 1
    pmt_ok fsf 1 || return 1
    read_is "$D/f3" "after bsf 2, fsf 1" || return 1
}

chk_drive_fsfm_bsfm() {
    # fsfm 1 ends on the BOT side of file 0's filemark. tgt's backward SPACE
    # over a filemark stops one block early (before the last block), so the
    # reference is what mt-st's fsfm reads there, not an empty file.
    run $MT -f "$NST" rewind
    run $MT -f "$NST" fsfm 1
    rc_is 0 "reference: mt-st fsfm 1" || return 1
    run dd if="$NST" of="$GOT/ref" bs=262144 count=16
    rc_is 0 "reference: dd after mt-st fsfm 1" || return 1
    mv "$GOT/ref" "$D/fsfm.ref"
    pmt_ok rewind || return 1
    pmt_ok fsfm 1 || return 1
    read_is "$D/fsfm.ref" "after fsfm 1: what mt-st fsfm 1 + dd read" || return 1
    read_is "$D/f2" "file 1 after that" || return 1
    # now at the start of file 2: bsfm 2 lands at the start of file 1
    pmt_ok bsfm 2 || return 1
    read_is "$D/f2" "after bsfm 2" || return 1
}

chk_drive_fsr_bsr() {
    tail -c +524289 "$D/f1" >"$D/f1.tail"      # f1 from its third 256 KiB block
    pmt_ok rewind || return 1
    pmt_ok fsr 2 || return 1
    read_is "$D/f1.tail" "after fsr 2" || return 1
    pmt_ok rewind || return 1
    pmt_ok fsr 3 || return 1
    pmt_ok bsr 1 || return 1
    read_is "$D/f1.tail" "after fsr 3, bsr 1" || return 1
}

chk_drive_eod_append() {
    random_file "$D/f4" 50000 || return 1
    pmt_ok eod || return 1
    pmt_write "$D/f4" 16384 || return 1
    pmt_ok rewind || return 1
    pmt_ok fsf 3 || return 1
    read_is "$D/f4" "file 3, appended after eod" || return 1
    pmt_ok rewind || return 1
    read_is "$D/f1" "file 0 still intact after the append" || return 1
}

chk_drive_weof() {
    random_file "$D/f5" 7000 || return 1
    pmt_ok eod || return 1
    pmt_ok weof 1 || return 1
    pmt_write "$D/f5" 1024 || return 1
    pmt_ok rewind || return 1
    pmt_ok fsf 4 || return 1
    : >"$D/empty"
    read_is "$D/empty" "file 4 (weof): empty" || return 1
    read_is "$D/f5" "file 5 after the empty file" || return 1
}

chk_drive_read_at_eod() {
    # tgt answers a READ at end of data with BLANK CHECK, ASC/ASCQ 00/00 (not 00/05)
    pmt_ok eod || return 1
    run_to "$GOT/got" pmt -f "$NST" read
    rc_failed "pmt read at end of data" || return 1
    err_has "end of data" "pmt read at end of data" || return 1
    [ ! -s "$GOT/got" ] || fail "pmt read at end of data wrote $(wc -c <"$GOT/got") bytes"
}

chk_drive_asf() {
    # tgt has no LOCATE: asf must reach file 1 another way (rewind + space); mhVTL has LOCATE
    pmt_ok asf 1 || return 1
    read_is "$D/f2" "after asf 1" || return 1
}

chk_drive_space_past_eod() {
    pmt_ok rewind || return 1
    run pmt -f "$NST" fsf 20
    rc_failed "pmt fsf 20 (only 6 files)" || return 1
    err_has "end.of.data|blank check" "pmt fsf past end of data" || return 1
}

group_drive_empty() {
    check "pmt status on an empty drive (first command, UNIT ATTENTION pending)" chk_drive_status_empty
    check "pmt rewind on an empty drive: clear 'no medium' error" chk_drive_empty_error
}

group_drive_io() {
    group_start drive_io
    check "pmt status on a loaded drive (nst and sg paths)" chk_drive_status_loaded
    check "pmt write 3 files (256K/64K/32K blocks, odd last block), rewind, read: byte-identical" chk_drive_write_read
    check "pmt fsf" chk_drive_fsf
    check "pmt -f /dev/st0 (rewinding node) does not rewind: st is never opened" chk_drive_st_node_untouched
    check "pmt bsf" chk_drive_bsf
    check "pmt fsfm / bsfm (mt-st semantics)" chk_drive_fsfm_bsfm
    check "pmt fsr / bsr" chk_drive_fsr_bsr
    check "pmt eod then write appends" chk_drive_eod_append
    check "pmt weof writes an empty file" chk_drive_weof
    check "pmt read at end of data: 'end of data', nothing written" chk_drive_read_at_eod
    check "pmt asf (tgt: no LOCATE, rewind + space; mhVTL: LOCATE)" chk_drive_asf
    check "pmt fsf past end of data: clear error" chk_drive_space_past_eod
    check "pmt write --block-size 4 MiB: refused before any CDB (above the transfer limit)" chk_drive_block_too_large
}
