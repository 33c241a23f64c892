# Interoperability with the kernel's st driver: what pmt writes, dd reads from
# /dev/nst0, and what dd writes through st, pmt reads (st writes the filemark
# itself when a file opened for writing is closed: one dd = one tape file).

I=/tmp/iop

chk_dd_reads_pmt() {
    mkdir -p "$I"
    load_slot 4 || return 1
    random_file "$I/h1" 786432 || return 1
    random_file "$I/h2" 45679 || return 1
    pmt_ok rewind || return 1
    pmt_write "$I/h1" 262144 || return 1
    pmt_write "$I/h2" 10000 || return 1
    run $MT -f "$NST" rewind
    rc_is 0 "mt-st rewind" || return 1
    run dd if="$NST" of="$GOT/d1" bs=262144 count=16
    rc_is 0 "dd if=$NST (file 0)" || return 1
    same_file "$I/h1" "$GOT/d1" "dd reads file 0 written by pmt" || return 1
    run dd if="$NST" of="$GOT/d2" bs=262144 count=16
    rc_is 0 "dd if=$NST (file 1)" || return 1
    same_file "$I/h2" "$GOT/d2" "dd reads file 1 (10000-byte blocks, last 5679) written by pmt" || return 1
    grep -q "^0+5 records in" "$ERR" || fail "dd: expected 0+5 records (5 short blocks) for file 1: $(head -1 "$ERR")" || return 1
}

chk_pmt_reads_dd() {
    mkdir -p "$I"
    load_slot 5 || return 1
    random_file "$I/g1" 200000 || return 1
    random_file "$I/g2" 4321 || return 1
    run $MT -f "$NST" setblk 0
    rc_is 0 "mt-st setblk 0" || return 1
    run dd if="$I/g1" of="$NST" bs=65536
    rc_is 0 "dd of=$NST bs=65536" || return 1
    run dd if="$I/g2" of="$NST" bs=1000
    rc_is 0 "dd of=$NST bs=1000" || return 1
    pmt_ok rewind || return 1
    read_is "$I/g1" "file 0 written by dd (64 KiB blocks, last 3392 bytes)" || return 1
    read_is "$I/g2" "file 1 written by dd (1000-byte blocks, last 321 bytes)" || return 1
}

group_interop() {
    group_start interop
    check "dd from /dev/nst0 reads what pmt write wrote" chk_dd_reads_pmt
    group_start interop2
    check "pmt read returns what dd wrote through st" chk_pmt_reads_dd
}
