# Honest degradation: tgt's drive has no LOG SENSE, READ ATTRIBUTE, SECURITY
# PROTOCOL, REPORT DENSITY SUPPORT, ERASE, FORMAT MEDIUM or LOCATE, and its
# READ POSITION answers "position unknown". Each pmt command that needs one
# must say "not supported by this device" with the sense, print no values and
# exit non-zero; status must leave the position unknown instead of inventing 0.

# unsupported WHAT REGEX CMD...: pmt CMD fails with "not supported by this device"
# and the decoded ILLEGAL REQUEST, printing nothing on stdout.
unsupported() {
    _what=$1; _re=$2; shift 2
    run pmt -f "$NST" "$@"
    rc_failed "pmt $*" || return 1
    err_has "not supported by this device" "pmt $* ($_what)" || return 1
    err_has "ILLEGAL REQUEST" "pmt $*: decoded sense" || return 1
    err_has "$_re" "pmt $*: names what is missing" || return 1
    [ ! -s "$OUT" ] || fail "pmt $*: printed values on stdout: $(head -c 200 "$OUT")" || return 1
    run pmt -f "$NST" "$@" --output-format json
    rc_failed "pmt $* --output-format json" || return 1
    [ ! -s "$OUT" ] || fail "pmt $* --output-format json: printed values: $(head -c 200 "$OUT")"
}

chk_no_cartridge_memory() { unsupported "no READ ATTRIBUTE" "READ ATTRIBUTE|attribute" cartridge-memory; }
chk_no_volume_statistics() { unsupported "no LOG SENSE" "LOG SENSE|log page" volume-statistics; }
chk_no_tape_alert() { unsupported "no LOG SENSE" "LOG SENSE|log page|tape ?alert" tape-alert-flags; }
chk_no_density() { unsupported "no REPORT DENSITY SUPPORT" "REPORT DENSITY|density" density; }
chk_no_encryption() { unsupported "no SECURITY PROTOCOL IN" "SECURITY PROTOCOL|encryption" encryption status; }
chk_no_encryption_set() {
    # a well-formed 256-bit key (64 hex characters): only the device can refuse it
    printf '%064d\n' 0 | tr 0 a >/tmp/key.hex
    unsupported "no SECURITY PROTOCOL OUT" "SECURITY PROTOCOL|encryption" encryption set --key-file /tmp/key.hex || return 1
    unsupported "no SECURITY PROTOCOL OUT" "SECURITY PROTOCOL|encryption" encryption clear
}
chk_no_erase() { unsupported "no ERASE" "ERASE" erase; }
chk_no_format() { unsupported "no FORMAT MEDIUM" "FORMAT" format; }

chk_position_unknown() {
    # position the tape with the reference tools: two files written by dd, then fsf 1
    random_file /tmp/pos.dat 4096 || return 1
    run $MT -f "$NST" setblk 0
    run dd if=/tmp/pos.dat of="$NST" bs=4096
    rc_is 0 "reference: dd (file 0)" || return 1
    run dd if=/tmp/pos.dat of="$NST" bs=4096
    rc_is 0 "reference: dd (file 1)" || return 1
    run $MT -f "$NST" rewind
    run $MT -f "$NST" fsf 1
    rc_is 0 "reference: mt-st fsf 1" || return 1
    # the head is at the start of file 1; tgt's READ POSITION says nothing valid
    pmt_json status
    rc_is 0 "pmt status (READ POSITION answers 'position unknown')" || return 1
    json_ok "pmt status" || return 1
    eq "$(jqo '.medium_present')" true "pmt status: medium_present" || return 1
    eq "$(jqo '.file_number')" null "pmt status in file 1: file_number must be unknown (null), not invented" || return 1
    eq "$(jqo '.block_number')" null "pmt status: block_number must be unknown (null)" || return 1
    eq "$(jqo '.logical_object_number')" null "pmt status: logical_object_number must be unknown (null)" || return 1
    run pmt -f "$NST" status
    rc_is 0 "pmt status (text)" || return 1
    grep -qi "unknown" "$OUT" || fail "pmt status (text) does not say the position is unknown" || return 1
}

group_degraded() {
    group_start degraded
    load_slot 3
    check "pmt cartridge-memory: not supported (no READ ATTRIBUTE), clean error" chk_no_cartridge_memory
    check "pmt volume-statistics: not supported (no LOG SENSE), clean error" chk_no_volume_statistics
    check "pmt tape-alert-flags: not supported (no LOG SENSE), clean error" chk_no_tape_alert
    check "pmt density: not supported (no REPORT DENSITY SUPPORT), clean error" chk_no_density
    check "pmt encryption status: not supported (no SECURITY PROTOCOL), clean error" chk_no_encryption
    check "pmt encryption set / clear: not supported (no SECURITY PROTOCOL OUT), clean error" chk_no_encryption_set
    check "pmt erase: not supported (no ERASE), clean error" chk_no_erase
    check "pmt format: not supported (no FORMAT MEDIUM), clean error" chk_no_format
    check "pmt status in file 1: position unknown is reported as unknown, not 0" chk_position_unknown
}
