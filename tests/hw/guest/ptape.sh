# ptape backup through the kernel. tgt's READ POSITION only answers "position
# unknown", so a backup can never verify where its data sits: it must fail
# with a clear message, and the catalog must not record a snapshot.

P=/tmp/ptape

chk_ptape_backup_refused() {
    export PTAPE_CONFIG_DIR=$P/config PTAPE_DATA_DIR=$P/data
    rm -rf "$P"; mkdir -p "$P/src/sub" "$PTAPE_CONFIG_DIR" "$PTAPE_DATA_DIR"
    random_file "$P/src/a.bin" 300000 || return 1
    random_file "$P/src/sub/b.bin" 70000 || return 1
    echo "hello tape" >"$P/src/sub/c.txt"
    run ptape changer add lib --path "$SCH"
    rc_is 0 "ptape changer add" || return 1
    run ptape drive add d0 --path "$NST" --changer lib --changer-drivenum 0
    rc_is 0 "ptape drive add" || return 1
    run ptape pool create hw
    rc_is 0 "ptape pool create hw" || return 1
    # tgt's never-written cartridges do not read as blank, so label one by force:
    # writing the label needs a verified position after the flush, which this drive cannot give
    # shellcheck disable=SC2034
    CMD_TIMEOUT=120
    run ptape label --barcode ABC002L9 --pool hw --drive d0 --force
    rc_failed "ptape label (no verifiable position on this drive)" || return 1
    err_has "position" "ptape label: says why (position)" || return 1
    run ptape media list --output-format json
    rc_is 0 "ptape media list" || return 1
    eq "$(jqo 'length')" 0 "ptape media list after the refused label" || return 1
    run ptape backup --pool hw --drive d0 "$P/src"
    # shellcheck disable=SC2034  # read by run (lib.sh)
    CMD_TIMEOUT=60
    rc_failed "ptape backup (no usable tape)" || return 1
    err_has "backup failed" "ptape backup: says it failed" || return 1
    run ptape snapshots --output-format json
    rc_is 0 "ptape snapshots" || return 1
    eq "$(jqo 'length')" 0 "ptape snapshots after the refused backup" || return 1
}

group_ptape() {
    group_start ptape
    check "ptape label/backup refuse a drive without a verifiable position, catalog stays empty" chk_ptape_backup_refused
}
