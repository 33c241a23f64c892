#!/bin/sh
# Run fuzz targets one after the other (one job each), SECONDS of wall time
# per target (default 180). Targets default to all of `cargo fuzz list`.
# Logs go to $FUZZ_LOG_DIR (default target/fuzz-logs); a summary line per
# target (executions, crash or not) is printed at the end.
#
#   ./run-all.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")"
secs=${1:-180}
[ $# -gt 0 ] && shift
targets=${*:-$(cargo fuzz list)}
logs=${FUZZ_LOG_DIR:-target/fuzz-logs}
mkdir -p "$logs"
summary=""
for t in $targets; do
    mkdir -p "corpus/$t"
    seeds=""
    [ -d "seeds/$t" ] && seeds="seeds/$t"
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "corpus/$t" $seeds -- \
        -max_total_time="$secs" -print_final_stats=1 >"$logs/$t.log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$')
    summary="$summary$t: exit $rc, ${execs:-?} executions, log $logs/$t.log
"
done
printf '%s' "$summary"
