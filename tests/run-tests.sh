#!/bin/sh
# run-tests.sh BUILD_DIR -- runs every unit test binary and every
# tests/*/test_*.sh script against BUILD_DIR's tcplens. A script exits 0 for
# pass, 77 for skip (it prints why), anything else for fail.
# Prints a closing "N passed, N failed, N skipped" line; exits 1 on failure.
B=${1:-build}
export TCPLENS="$(cd "$B" && pwd)/tcplens"
export TL_BUILD="$(cd "$B" && pwd)"
export TL_TOP="$(pwd)"
pass=0; fail=0; skip=0; failed=""
run() {
    name=$1; shift
    log="$B/test-logs/$(echo "$name" | tr '/' '_').log"
    mkdir -p "$B/test-logs"
    "$@" >"$log" 2>&1
    rc=$?
    case $rc in
    0) pass=$((pass+1)); echo "PASS $name"; grep -h '^#' "$log" | sed 's/^/     /' ;;
    77) skip=$((skip+1)); echo "SKIP $name: $(tail -n 1 "$log")" ;;
    *) fail=$((fail+1)); failed="$failed $name"; echo "FAIL $name (exit $rc), log: $log"; tail -n 30 "$log" | sed 's/^/     /' ;;
    esac
}
for t in "$B"/tests/unit/test_*; do
    [ -x "$t" ] || continue
    run "unit/$(basename "$t")" "$t"
done
for t in tests/*/test_*.sh; do
    [ -f "$t" ] || continue
    interp=$(head -n 1 "$t" | sed -n 's|^#! *\([^ ]*\).*|\1|p')
    run "$t" "${interp:-/bin/sh}" "$t"
done
echo "$pass passed, $fail failed, $skip skipped"
[ -n "$failed" ] && echo "failed:$failed"
[ "$fail" = 0 ]
