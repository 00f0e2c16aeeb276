#!/bin/sh
# test_tshark_selfmade.sh -- tshark is the oracle for tcplens's per-packet
# fields on real kernel traffic: make-captures.sh records the tcpgen scenarios
# in a private network namespace, check_captures.py proves the captures hold
# what the scenarios promise, then compare_tshark.py compares every TCP field
# of every packet. Exit 0 when all agree, 77 when it cannot run (reason last).
set -eu

top=${TL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TL_BUILD:-$top/build}
tcplens=${TCPLENS:-$build/tcplens}
golden=$top/tests/golden

skip() { echo "$1"; exit 77; }
for tool in tshark tcpdump python3 bash mergecap; do
    command -v "$tool" >/dev/null 2>&1 || skip "skip: $tool is not installed (make deps)"
done
[ -x "$tcplens" ] || skip "skip: no tcplens binary at $tcplens (make all)"
[ -x "$build/tests/tools/tcpgen" ] || skip "skip: no tcpgen at $build/tests/tools/tcpgen (make all)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP

rc=0
TCPGEN=$build/tests/tools/tcpgen bash "$golden/make-captures.sh" "$work/caps" >"$work/make.log" 2>&1 || rc=$?
if [ "$rc" = 77 ]; then
    skip "skip: $(tail -n 1 "$work/make.log")"
elif [ "$rc" != 0 ]; then
    cat "$work/make.log"
    echo "make-captures.sh failed (exit $rc)"
    exit 1
fi

echo "== captures (checked with tshark)"
python3 "$golden/check_captures.py" "$work/caps" || { echo "the captures are not what the scenarios promise"; exit 1; }

files=0; pkts=0; fields=0; bad=0; failed=""
for cap in "$work"/caps/*.pcap "$work"/caps/*.pcapng; do
    [ -f "$cap" ] || continue
    files=$((files + 1))
    out=$(python3 "$golden/compare_tshark.py" --tcplens "$tcplens" "$cap") && crc=0 || crc=$?
    echo "$out" | grep -v '^#' || true
    line=$(echo "$out" | grep '^# ' | tail -n 1)
    echo "   ${line#\# }"
    # "# NAME: P packets, F fields compared, M mismatches"
    # shellcheck disable=SC2046 # three numbers, split on purpose
    set -- $(echo "$line" | sed -n 's/^# [^:]*: \([0-9]*\) packets, \([0-9]*\) fields compared, \([0-9]*\) mismatches$/\1 \2 \3/p')
    if [ "$crc" != 0 ] || [ $# != 3 ]; then
        failed="$failed $(basename "$cap")"
        [ $# = 3 ] && { pkts=$((pkts + $1)); fields=$((fields + $2)); bad=$((bad + $3)); }
        continue
    fi
    pkts=$((pkts + $1)); fields=$((fields + $2)); bad=$((bad + $3))
done

echo "# selfmade: $files files, $pkts packets, $fields fields compared, $bad mismatches"
[ "$files" -ge 16 ] || { echo "only $files captures were made"; exit 1; }
if [ -n "$failed" ]; then
    echo "mismatches or errors in:$failed"
    exit 1
fi
