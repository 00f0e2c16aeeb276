#!/bin/sh
# run-all.sh BUILD_DIR -- what `make test` runs after building: the suite on
# the normal build, the same suite on the AddressSanitizer + UBSan build, and
# a bounded libFuzzer run. Every stage runs even when an earlier one failed;
# the closing line sums them up. Exit 1 when anything failed.
B=${1:-build}
status=0
summary=""
stage() {
    name=$1; shift
    echo
    echo "=== $name"
    if "$@"; then r=ok; else r=FAILED; status=1; fi
    summary="$summary
  $name: $r"
}
suite() {
    { tests/run-tests.sh "$1"; echo $? >"$B/stage.rc"; } | tee "$B/stage.log"
    return "$(cat "$B/stage.rc")"
}
suite_counts() { grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$1" | tail -n 1; }

stage "suite ($B)" suite "$B"
normal=$(suite_counts "$B/stage.log")
stage "sanitizer build" make --no-print-directory san-build
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 TL_SANITIZER=1
stage "suite under ASan+UBSan (build/san)" suite build/san
sanitized=$(suite_counts "$B/stage.log")
stage "fuzz (bounded)" make --no-print-directory fuzz-run
rm -f "$B/stage.log" "$B/stage.rc"

echo
echo "=== make test summary$summary"
echo "  normal build: $normal"
echo "  sanitizer build: $sanitized"
p=$(echo "$normal $sanitized" | awk '{ p = $1 + $7; f = $3 + $9; s = $5 + $11; print p " passed, " f " failed, " s " skipped" }')
echo "$p"
exit $status
