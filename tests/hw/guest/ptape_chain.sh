# The whole ptape chain through the kernel on a model that can hold it
# (mhVTL: long-form READ POSITION, a changer with two drives, 24 MB
# cartridges): changer add, drive add (both), label (one by barcode into an
# encrypted pool, the rest with --all-unlabelled), a backup spanning two
# cartridges, snapshots, restore whole and --path (on drive 1), verify, an
# encrypted backup with a passphrase-protected `ptape key` whose data the
# drive refuses without the key, key recovery from the tape and from a
# paper key, catalog scan after deleting the database (snapshots and pools
# come back; it runs last), and pmt selftest refusing a labelled
# cartridge.

PC=/tmp/pchain

# same_tree A B WHAT: identical trees: contents (diff -r), and type, mode,
# size and link target of every entry.
same_tree() {
    run diff -r "$1" "$2"
    rc_is 0 "$3: diff -r" || return 1
    (cd "$1" && find . | sort | while read -r f; do stat -c '%n %F %a %s %N' "$f"; done) >"$PC/tree.a"
    (cd "$2" && find . | sort | while read -r f; do stat -c '%n %F %a %s %N' "$f"; done) >"$PC/tree.b"
    same_text "$PC/tree.a" "$PC/tree.b" "$3: entry types, modes, sizes, link targets"
}

chk_chain_setup() {
    export PTAPE_CONFIG_DIR=$PC/config PTAPE_DATA_DIR=$PC/data
    rm -rf "$PC"; mkdir -p "$PC/src/data/sub/deeper" "$PTAPE_CONFIG_DIR" "$PTAPE_DATA_DIR"
    S=$PC/src/data
    random_file "$S/big1.bin" 15000000 || return 1
    random_file "$S/sub/big2.bin" 13000000 || return 1
    random_file "$S/sub/mid.bin" 700000 || return 1
    cp "$S/sub/mid.bin" "$S/sub/deeper/mid-copy.bin"        # deduplicated chunks
    for i in 1 2 3 4 5 6 7 8 9; do echo "small file $i" >"$S/sub/s$i.txt"; done
    chmod 600 "$S/sub/s3.txt"; chmod 755 "$S/sub/deeper"
    ln -s ../big1.bin "$S/sub/link-to-big"
    ln "$S/sub/s1.txt" "$S/hardlink-s1.txt"
    : >"$S/empty"
    run ptape changer add lib --path "$SCH"
    rc_is 0 "ptape changer add" || return 1
    run ptape drive add d0 --path "$NST" --changer lib --changer-drivenum 0
    rc_is 0 "ptape drive add d0" || return 1
    run ptape drive add d1 --path "$TAPE2_SG" --changer lib --changer-drivenum 1
    rc_is 0 "ptape drive add d1" || return 1
    run ptape pool create hw
    rc_is 0 "ptape pool create hw" || return 1
    # a passphrase-protected key (pbkdf2: scrypt's cost is slow under TCG);
    # the passphrase reaches every command through --passphrase-file, the
    # catalog scan through $PTAPE_PASSPHRASE
    PASS=$PC/passphrase
    echo "hw suite passphrase 7" >"$PASS"
    run ptape key create --hint "hw suite" --kdf pbkdf2 --passphrase-file "$PASS"
    rc_is 0 "ptape key create --kdf pbkdf2 --passphrase-file" || return 1
    FP=$(tr -d '\n' <"$OUT")
    run ptape key show "$FP" --output-format json
    rc_is 0 "ptape key show" || return 1
    eq "$(jqo '.kdf')" pbkdf2 "ptape key show: kdf" || return 1
    run ptape pool create enc --encrypt "$FP"
    rc_is 0 "ptape pool create enc --encrypt" || return 1
    run ptape status --output-format json
    rc_is 0 "ptape status" || return 1
    note "status: $(head -c 1500 "$OUT")"
}

chk_chain_label() {
    CMD_TIMEOUT=600
    b8=$(bc_of 8)
    run ptape label --barcode "$b8" --pool enc
    rc_is 0 "ptape label --barcode $b8 --pool enc" || return 1
    run ptape label --all-unlabelled --pool hw --output-format json
    CMD_TIMEOUT=60
    rc_is 0 "ptape label --all-unlabelled" || return 1
    json_ok "ptape label --all-unlabelled" || return 1
    jqo '.[].label' | sort >"$PC/labelled"
    echo "$HW_TAPES" | tr ' ' '\n' | grep -v -e '^-$' -e '^CLN' -e "^$b8\$" | sort >"$PC/expected"
    same_text "$PC/expected" "$PC/labelled" "ptape label --all-unlabelled: every data cartridge but $b8" || return 1
    run ptape media list --output-format json
    rc_is 0 "ptape media list" || return 1
    eq "$(jqo 'length')" "$(($(wc -l <"$PC/expected") + 1))" "ptape media list: every labelled cartridge" || return 1
    # everything back home (the cleaning cartridge untouched), drives empty
    mtx_state "$PC/mtx"
    for d in 0 1; do grep -qx "drive $d empty" "$PC/mtx" || fail "drive $d not empty after labelling" || return 1; done
    mtx_has "slot $HW_CLEAN_SLOT full $(bc_of "$HW_CLEAN_SLOT")" "cleaning cartridge after labelling" || return 1
    # the label as st sees it: one block naming the barcode, then a filemark
    load_slot 1 || return 1
    run dd if="$NST" of="$GOT/label" bs=262144
    rc_is 0 "reference: dd of the label file" || return 1
    grep -q "PTMLABEL" "$GOT/label" && grep -q "$(bc_of 1)" "$GOT/label" ||
        fail "label block read by dd lacks PTMLABEL/$(bc_of 1): $(head -c 100 "$GOT/label" | od -c | head -3)" || return 1
    library_home
}

chk_chain_backup() {
    CMD_TIMEOUT=900
    run ptape backup --pool hw --drive d0 --id hw "$PC/src/data" --output-format json
    CMD_TIMEOUT=60
    rc_is 0 "ptape backup (spanning)" || return 1
    json_ok "ptape backup" || return 1
    SNAP=$(jqo '.snapshot')
    note "snapshot $SNAP on $(jqo '.tapes | join(",")')"
    [ "$(jqo '.tapes | length')" -ge 2 ] || fail "backup of 29 MB on 24 MB cartridges did not span: tapes $(jqo '.tapes | join(",")')" || return 1
    run ptape snapshots --output-format json
    rc_is 0 "ptape snapshots" || return 1
    eq "$(jqo 'length')" 1 "ptape snapshots: count" || return 1
    eq "$(jqo '.[0].name')" "$SNAP" "ptape snapshots: name" || return 1
    run ptape content --output-format json
    rc_is 0 "ptape content" || return 1
}

chk_chain_restore() {
    [ -n "$SNAP" ] || { fail "no snapshot (backup failed)"; return 1; }
    CMD_TIMEOUT=900
    run ptape restore --drive d1 "$SNAP" "$PC/restore"
    CMD_TIMEOUT=60
    rc_is 0 "ptape restore --drive d1" || return 1
    same_tree "$PC/src/data" "$PC/restore/data" "whole restore" || return 1
    eq "$(stat -c %i "$PC/restore/data/hardlink-s1.txt")" "$(stat -c %i "$PC/restore/data/sub/s1.txt")" "hard link restored as a hard link" || return 1
    rm -rf "$PC/restore"
}

chk_chain_restore_path() {
    [ -n "$SNAP" ] || { fail "no snapshot (backup failed)"; return 1; }
    CMD_TIMEOUT=600
    run ptape restore "$SNAP" "$PC/part" --path data/sub/deeper
    CMD_TIMEOUT=60
    rc_is 0 "ptape restore --path data/sub/deeper" || return 1
    same_tree "$PC/src/data/sub/deeper" "$PC/part/data/sub/deeper" "restore --path" || return 1
    [ ! -e "$PC/part/data/big1.bin" ] || fail "restore --path restored more than the path (data/big1.bin)" || return 1
    rm -rf "$PC/part"
}

chk_chain_verify() {
    CMD_TIMEOUT=900
    run ptape verify --pool hw --output-format json
    CMD_TIMEOUT=60
    rc_is 0 "ptape verify" || return 1
    json_ok "ptape verify" || return 1
    eq "$(jqo '.ok')" true "ptape verify: ok" || return 1
}

chk_chain_catalog_scan() {
    [ -n "$SNAP" ] || { fail "no snapshot (backup failed)"; return 1; }
    rm -f "$PTAPE_DATA_DIR"/catalog.db "$PTAPE_DATA_DIR"/catalog.db-wal "$PTAPE_DATA_DIR"/catalog.db-shm
    rm -rf "$PTAPE_DATA_DIR"/file-index
    run ptape snapshots --output-format json
    eq "$(jqo 'length')" 0 "ptape snapshots without a database" || return 1
    CMD_TIMEOUT=900
    run env PTAPE_PASSPHRASE="$(cat "$PASS")" ptape catalog scan --output-format json
    CMD_TIMEOUT=60
    rc_is 0 "ptape catalog scan" || return 1
    json_ok "ptape catalog scan" || return 1
    # both snapshots: the plain one spanning two cartridges and the encrypted one
    # (its key is in the key store, which the scan does not lose)
    eq "$(jqo '.snapshots')" "$( [ -n "$ESNAP" ] && echo 2 || echo 1)" "ptape catalog scan: snapshots found" || return 1
    run ptape snapshots --output-format json
    jqo '.[].name' | sort >"$PC/snaps.scan"
    printf '%s\n' "$SNAP" $ESNAP | sort >"$PC/snaps.want"
    same_text "$PC/snaps.want" "$PC/snaps.scan" "ptape snapshots after the scan" || return 1
    # the pools come back too (pools.toml beside the key store), the
    # encrypted one with its key
    run ptape pool list --output-format json
    rc_is 0 "ptape pool list after the scan" || return 1
    eq "$(jqo '[.[].name | select(. == "enc" or . == "hw")] | sort | join(",")')" "enc,hw" "ptape pool list after the scan: pools" || return 1
    eq "$(jqo '.[] | select(.name == "enc") | .encrypt')" "$FP" "pool enc after the scan: its key" || return 1
    CMD_TIMEOUT=900
    run ptape restore "$SNAP" "$PC/rescan"
    CMD_TIMEOUT=60
    rc_is 0 "ptape restore after catalog scan" || return 1
    same_tree "$PC/src/data" "$PC/rescan/data" "restore after catalog scan" || return 1
    rm -rf "$PC/rescan"
}

chk_chain_encrypted() {
    [ -n "$FP" ] || { fail "no key (setup failed)"; return 1; }
    mkdir -p "$PC/esrc/secret"
    random_file "$PC/esrc/secret/e1.bin" 2000000 || return 1
    echo "a secret note" >"$PC/esrc/secret/note.txt"
    CMD_TIMEOUT=600
    run ptape backup --pool enc --drive d0 --id enc --passphrase-file "$PASS" "$PC/esrc/secret" --output-format json
    CMD_TIMEOUT=60
    rc_is 0 "ptape backup --pool enc (key $FP)" || return 1
    json_ok "ptape backup --pool enc" || return 1
    ESNAP=$(jqo '.snapshot')
    eq "$(jqo '.tapes | join(",")')" "$(bc_of 8)" "encrypted backup on the enc pool's cartridge" || return 1
    CMD_TIMEOUT=600
    run ptape restore --passphrase-file "$PASS" "$ESNAP" "$PC/erest"
    CMD_TIMEOUT=60
    rc_is 0 "ptape restore --passphrase-file of the encrypted snapshot" || return 1
    same_tree "$PC/esrc/secret" "$PC/erest/secret" "encrypted round trip" || return 1
    rm -rf "$PC/erest"
}

# The archive on tape is unreadable without the set's key: mhVTL keeps the
# blocks with the key they were written with and refuses them with DATA
# PROTECT: 07/74/01 (unable to decrypt) without a key, 07/74/03 (incorrect
# key) with another one. The labels before it stay plain.
chk_chain_encrypted_on_tape() {
    [ -n "$ESNAP" ] || { fail "no encrypted snapshot (backup failed)"; return 1; }
    run ptape content --output-format json
    rc_is 0 "ptape content" || return 1
    fnum=$(jq -r --arg t "$(bc_of 8)" '.[] | select(.label == $t) | .archives[0].file_number' "$OUT")
    note "first archive of $(bc_of 8): file $fnum"
    [ -n "$fnum" ] && [ "$fnum" != null ] || { fail "ptape content: no archive on $(bc_of 8)"; return 1; }
    library_home
    load_slot 8 || return 1
    run pmt -f "$NST" encryption status --output-format json
    note "drive encryption after ptape: $(cat "$OUT")"
    rc_is 0 "pmt encryption status" || return 1
    eq "$(jqo '.encrypting')" false "no key left in the drive by ptape: encrypting" || return 1
    eq "$(jqo '.decryption_mode')" disable "no key left in the drive by ptape: decryption mode" || return 1
    # the media set label (file 1) is plain and names the key
    run $MT -f "$NST" rewind
    run $MT -f "$NST" fsf 1
    rc_is 0 "reference: mt-st fsf 1" || return 1
    run dd if="$NST" of="$GOT/setlabel" bs=524288
    rc_is 0 "reference: dd of the media set label (plain)" || return 1
    # the archive itself: st and pmt are refused without the key
    run $MT -f "$NST" rewind
    run $MT -f "$NST" fsf "$fnum"
    rc_is 0 "reference: mt-st fsf $fnum" || return 1
    run dd if="$NST" of="$GOT/enc" bs=524288 count=8
    rc_failed "reference: dd of the encrypted archive (file $fnum) without the key" || return 1
    [ ! -s "$GOT/enc" ] || fail "dd read $(wc -c <"$GOT/enc") bytes of the encrypted archive without the key" || return 1
    run pmt -f "$NST" rewind
    run pmt -f "$NST" fsf "$fnum"
    rc_is 0 "pmt fsf $fnum" || return 1
    run_to "$GOT/got" pmt -f "$NST" read
    rc_failed "pmt read of the encrypted archive without a key" || return 1
    [ ! -s "$GOT/got" ] || fail "pmt read without the key returned $(wc -c <"$GOT/got") bytes" || return 1
    err_has "DATA PROTECT: unable to decrypt data .07/7401." "pmt read without a key: DATA PROTECT, unable to decrypt" || return 1
    # with some other key loaded the drive says the key is wrong
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$PC/other.key"; echo >>"$PC/other.key"
    run pmt -f "$NST" encryption set --key-file "$PC/other.key"
    rc_is 0 "pmt encryption set (another key)" || return 1
    run pmt -f "$NST" rewind
    run pmt -f "$NST" fsf "$fnum"
    run_to "$GOT/got" pmt -f "$NST" read
    rc_failed "pmt read of the encrypted archive with another key" || return 1
    [ ! -s "$GOT/got" ] || fail "pmt read with another key returned $(wc -c <"$GOT/got") bytes" || return 1
    err_has "DATA PROTECT: .*07/7403" "pmt read with another key: DATA PROTECT, incorrect key" || return 1
    run pmt -f "$NST" encryption clear
    rc_is 0 "pmt encryption clear" || return 1
    library_home
}

# Without the key in the store: restore fails before reading data and names
# the key; `ptape key restore` recovers it from the media set label with the
# passphrase, and a paper key imported on its own brings it back too.
chk_chain_key_recovery() {
    [ -n "$ESNAP" ] || { fail "no encrypted snapshot (backup failed)"; return 1; }
    run ptape key paperkey "$FP"
    rc_is 0 "ptape key paperkey" || return 1
    cp "$OUT" "$PC/paperkey.txt"
    grep -q "BEGIN" "$PC/paperkey.txt" || fail "paper key has no BEGIN line" || return 1
    run ptape key remove --force "$FP"
    rc_is 0 "ptape key remove --force" || return 1
    CMD_TIMEOUT=600
    run ptape restore --passphrase-file "$PASS" "$ESNAP" "$PC/erest"
    CMD_TIMEOUT=60
    rc_failed "ptape restore without the key in the store" || return 1
    err_has "is encrypted with key" "ptape restore without the key: names the key" || return 1
    err_has "hw suite" "ptape restore without the key: shows the hint" || return 1
    [ ! -e "$PC/erest/secret/e1.bin" ] || fail "ptape restore without the key wrote data" || return 1
    rm -rf "$PC/erest"
    # the key from the tape (media set label: wrapped key + fingerprint)
    library_home
    load_slot 8 || return 1
    echo "not the passphrase" >"$PC/wrong"
    run ptape key restore --drive d0 --passphrase-file "$PC/wrong"
    rc_failed "ptape key restore with a wrong passphrase" || return 1
    err_has "hw suite" "ptape key restore, wrong passphrase: shows the hint" || return 1
    run ptape key restore --drive d0 --passphrase-file "$PASS" --output-format json
    rc_is 0 "ptape key restore --drive d0 (from the tape)" || return 1
    run ptape key list --output-format json
    rc_is 0 "ptape key list" || return 1
    eq "$(jqo '.[].fingerprint' | grep -cx "$FP")" 1 "ptape key list: the key is back" || return 1
    CMD_TIMEOUT=600
    run ptape restore --passphrase-file "$PASS" "$ESNAP" "$PC/erest"
    CMD_TIMEOUT=60
    rc_is 0 "ptape restore with the key recovered from tape" || return 1
    same_tree "$PC/esrc/secret" "$PC/erest/secret" "restore with the recovered key" || return 1
    rm -rf "$PC/erest"
    # the paper key on its own
    run ptape key remove --force "$FP"
    rc_is 0 "ptape key remove --force (again)" || return 1
    run ptape key import --paper-key "$PC/paperkey.txt" --passphrase-file "$PASS"
    rc_is 0 "ptape key import --paper-key" || return 1
    run ptape key show "$FP" --output-format json
    rc_is 0 "ptape key show after the paper key import" || return 1
    eq "$(jqo '.hint')" "hw suite" "imported paper key: hint" || return 1
    library_home
}

chk_chain_selftest_refuses() {
    library_home
    load_slot 1 || return 1
    run pmt -f "$NST" selftest --quick
    rc_failed "pmt selftest on a ptape-labelled cartridge" || return 1
    err_has "label|--force" "pmt selftest: says why (ptape label, --force)" || return 1
}

group_ptape_chain() {
    group_start ptape_chain
    SNAP=; ESNAP=; FP=; PASS=
    check "ptape changer add, drive add (both drives), pool create, key create, pool --encrypt" chk_chain_setup
    check "ptape label --barcode and --all-unlabelled: every data cartridge, dd reads the label" chk_chain_label
    check "ptape backup spanning two 24 MB cartridges, snapshots, content" chk_chain_backup
    check "ptape restore (whole, on drive 1): identical tree" chk_chain_restore
    check "ptape restore --path: only that subtree" chk_chain_restore_path
    check "ptape verify: every archive and chunk digest" chk_chain_verify
    check "ptape encrypted pool (pbkdf2 key, --passphrase-file): backup, restore identical" chk_chain_encrypted
    check "encrypted archive on tape: no key left in the drive, labels plain; dd and pmt read refused without a key (07/74/01) and with another (07/74/03)" chk_chain_encrypted_on_tape
    check "key removed: restore names the key; ptape key restore from tape, restore; paper key import" chk_chain_key_recovery
    check "ptape catalog scan after deleting the database (both media sets, both pools), then restore" chk_chain_catalog_scan
    check "pmt selftest refuses a ptape-labelled cartridge (no --force)" chk_chain_selftest_refuses
}
