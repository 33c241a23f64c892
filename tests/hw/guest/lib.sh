# Check helpers of the guest suite (busybox sh, sourced by suite.sh).
#
# A check is a shell function run by `check NAME FUNCTION [ARGS]`; it passes
# when it returns 0 without calling `fail` (see known_bug for XFAIL/XPASS). Helpers that assert return 1 after
# `fail`, so check bodies read `run pmt ...; rc_is 0 "pmt rewind" || return 1`.
# Results go to /host/results.txt ("PASS<TAB>name" / "FAIL<TAB>name<TAB>why"),
# the commands and their output of check N to /host/logs/NNN.log.

RESULTS=/host/results.txt
LOGS=/host/logs
OUT=/tmp/cmd.out
ERR=/tmp/cmd.err
CMD_TIMEOUT=${CMD_TIMEOUT:-60}
# shellcheck disable=SC2034  # used by the group files sourced after this one
MT=/usr/bin/mt-st        # busybox ash has its own mt and lsscsi applets:
# shellcheck disable=SC2034
LSSCSI=/usr/bin/lsscsi   # the real tools are called by full path
N=0
WHY=
LOG=/dev/null

# check NAME FUNCTION [ARGS...]
check() {
    _name=$1; shift
    N=$((N + 1))
    LOG=$LOGS/$(printf '%03d' "$N").log
    echo "### check $N: $_name" >"$LOG"
    WHY=
    rm -f "$GOT"/* 2>/dev/null
    "$@"
    _rc=$?
    if [ "$_rc" -eq 0 ] && [ -z "$WHY" ]; then
        if [ -n "${KNOWN_BUG:-}" ]; then
            printf 'XPASS\t%s\t%s\n' "$_name" "$KNOWN_BUG" >>"$RESULTS"
            echo "[hw] XPASS $_name (known bug fixed? $KNOWN_BUG)"
        else
            printf 'PASS\t%s\n' "$_name" >>"$RESULTS"
            echo "[hw] PASS $_name"
        fi
    else
        [ -n "$WHY" ] || WHY="check function returned $_rc"
        if [ -n "${KNOWN_BUG:-}" ]; then
            printf 'XFAIL\t%s\t%s: %s (logs/%03d.log)\n' "$_name" "$KNOWN_BUG" "$WHY" "$N" >>"$RESULTS"
            echo "[hw] XFAIL $_name: $KNOWN_BUG: $WHY"
        else
            printf 'FAIL\t%s\t%s (logs/%03d.log)\n' "$_name" "$WHY" "$N" >>"$RESULTS"
            echo "[hw] FAIL $_name: $WHY"
        fi
    fi
    KNOWN_BUG=
}

# known_bug TEXT: the next check asserts what is right but fails because of a
# bug that is filed and being fixed elsewhere: it is reported XFAIL (with
# TEXT and the reason) instead of failing the run, and XPASS once it passes,
# so the marker can be removed. Never for a bug of the code under test that
# nobody owns.
known_bug() { KNOWN_BUG=$*; }

# fail MESSAGE: record why the current check fails (the first reason wins).
fail() {
    [ -n "$WHY" ] || WHY=$*
    echo "FAIL: $*" >>"$LOG"
    return 1
}

# note TEXT: a line in the check's log.
note() { echo "# $*" >>"$LOG"; }

# run CMD...: run with a time bound; stdout in $OUT, stderr in $ERR, exit
# code in RC (124/143 = timed out); command and output go to the log.
run() {
    timeout "$CMD_TIMEOUT" "$@" >"$OUT" 2>"$ERR"
    RC=$?
    {
        echo "\$ $*"
        echo "rc=$RC"
        head -c 3000 "$OUT" | sed 's/^/  out: /'
        [ "$(wc -c <"$OUT")" -gt 3000 ] && echo "  out: ... ($(wc -c <"$OUT") bytes)"
        head -c 3000 "$ERR" | sed 's/^/  err: /'
    } >>"$LOG"
    return 0
}

# run_in FILE CMD...: like run, stdin from FILE.
run_in() {
    _in=$1; shift
    timeout "$CMD_TIMEOUT" "$@" <"$_in" >"$OUT" 2>"$ERR"
    RC=$?
    { echo "\$ $* < $_in"; echo "rc=$RC"; head -c 3000 "$ERR" | sed 's/^/  err: /'; } >>"$LOG"
    return 0
}

# run_to FILE CMD...: like run, stdout to FILE (binary data).
run_to() {
    _to=$1; shift
    timeout "$CMD_TIMEOUT" "$@" >"$_to" 2>"$ERR"
    RC=$?
    { echo "\$ $* > $_to"; echo "rc=$RC ($(wc -c <"$_to") bytes out)"; head -c 3000 "$ERR" | sed 's/^/  err: /'; } >>"$LOG"
    return 0
}

_first_err() { head -c 300 "$ERR" | tr '\n' ' '; }

# rc_is N WHAT: the last command exited with N.
rc_is() {
    [ "$RC" = "$1" ] && return 0
    case $RC in 124|143) fail "$2: timed out after ${CMD_TIMEOUT}s"; return 1;; esac
    fail "$2: exit code $RC, expected $1: $(_first_err)"
}

# rc_failed WHAT: the last command failed cleanly (non-zero, no panic, no timeout).
rc_failed() {
    case $RC in
        0) fail "$1: succeeded but must fail"; return 1;;
        124|143) fail "$1: timed out after ${CMD_TIMEOUT}s"; return 1;;
        101) fail "$1: panicked: $(_first_err)"; return 1;;
    esac
    if grep -q "panicked at" "$ERR"; then fail "$1: panicked: $(_first_err)"; return 1; fi
    return 0
}

# err_has REGEX WHAT: stderr of the last command matches (grep -iE).
err_has() {
    grep -qiE -- "$1" "$ERR" && return 0
    fail "$2: message does not match /$1/: $(_first_err)"
}

# eq ACTUAL EXPECTED WHAT
eq() {
    [ "$1" = "$2" ] && return 0
    fail "$3: got '$1', expected '$2'"
}

# same_file EXPECTED ACTUAL WHAT: byte-identical files.
same_file() {
    cmp -s "$1" "$2" && return 0
    fail "$3: $2 ($(wc -c <"$2") bytes) differs from $1 ($(wc -c <"$1") bytes): $(cmp "$1" "$2" 2>&1 | head -1)"
}

# same_text EXPECTED_FILE ACTUAL_FILE WHAT: equal line by line; diff in the log.
same_text() {
    if cmp -s "$1" "$2"; then return 0; fi
    { echo "expected ($1):"; sed 's/^/  /' "$1"; echo "actual ($2):"; sed 's/^/  /' "$2"; } >>"$LOG"
    fail "$3: differs (first difference: $(diff "$1" "$2" 2>/dev/null | grep '^[-+][^-+]' | head -2 | tr '\n' ' '))"
}

# jqo FILTER: evaluate a jq filter on the JSON of the last command's stdout.
jqo() { jq -r "$1" "$OUT" 2>>"$LOG"; }

# json_ok WHAT: the last command printed valid JSON.
json_ok() {
    [ -s "$OUT" ] && jq -e . "$OUT" >/dev/null 2>&1 && return 0
    fail "$1: stdout is not JSON: $(head -c 200 "$OUT" | tr '\n' ' ')"
}

# random_file PATH BYTES: random content of exactly BYTES bytes.
random_file() {
    head -c "$2" /dev/urandom >"$1" 2>>"$LOG"
    [ "$(wc -c <"$1")" = "$2" ] || fail "cannot create test data $1 ($2 bytes)"
}
