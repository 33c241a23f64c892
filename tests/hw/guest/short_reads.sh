# QEMU's iSCSI pass-through reports residual 0 for every command: the length of
# a short block must come from the sense INFORMATION field (ILI). Blocks of odd
# sizes read with a larger buffer must come back with their exact sizes.

S=/tmp/short

chk_short_blocks() {
    mkdir -p "$S"
    load_slot 6 || return 1
    random_file "$S/a" 12345 || return 1      # 15 blocks of 777 bytes + one of 690
    random_file "$S/b" 1 || return 1          # one block of 1 byte
    random_file "$S/c" 131073 || return 1     # one block of 65537 bytes + one of 65536
    pmt_ok rewind || return 1
    pmt_write "$S/a" 777 || return 1
    pmt_write "$S/b" 512 || return 1
    pmt_write "$S/c" 65537 || return 1
    pmt_ok rewind || return 1
    read_is "$S/a" "777-byte blocks, last 690" || return 1
    read_is "$S/b" "a single 1-byte block" || return 1
    read_is "$S/c" "65537-byte blocks, last 65535" || return 1
}

chk_short_blocks_dd() {
    # the same blocks through st: dd counts one record per block, sizes intact
    run $MT -f "$NST" rewind
    rc_is 0 "mt-st rewind" || return 1
    run dd if="$NST" of="$GOT/da" bs=65536 count=64
    rc_is 0 "dd (file 0)" || return 1
    same_file "$S/a" "$GOT/da" "dd reads the 777-byte blocks" || return 1
    grep -q "^0+16 records in" "$ERR" || fail "dd: expected 0+16 records in: $(head -1 "$ERR")" || return 1
}

group_short_reads() {
    group_start short_reads
    check "short reads sized from sense INFORMATION (tgt: residual 0 on iSCSI): pmt" chk_short_blocks
    check "short reads: the same blocks through st (dd)" chk_short_blocks_dd
}
