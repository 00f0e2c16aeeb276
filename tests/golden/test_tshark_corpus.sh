#!/bin/sh
# test_tshark_corpus.sh -- tshark as the oracle for tcplens's per-packet
# fields on the conformance corpus (../shared/corpus/zeek/*/trace.pcap, other
# projects' real captures, read in place and never copied). Cases of tier
# "plain" (ordinary Ethernet/IP) must agree on every field; the other tiers
# (MPLS/FabricPath, Teredo, GTP encapsulation) are compared and reported for
# information only. Exit 0 pass, 1 fail, 77 skip (reason on the last line).
set -eu

top=${TL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TL_BUILD:-$top/build}
tcplens=${TCPLENS:-$build/tcplens}
corpus=$top/../shared/corpus/zeek
golden=$top/tests/golden

skip() { echo "$1"; exit 77; }
[ -d "$corpus" ] || skip "skip: no conformance corpus at $corpus"
[ -f "$corpus/cases.tsv" ] || skip "skip: $corpus has no cases.tsv"
for tool in tshark python3; do
    command -v "$tool" >/dev/null 2>&1 || skip "skip: $tool is not installed (make deps)"
done
[ -x "$tcplens" ] || skip "skip: no tcplens binary at $tcplens (make all)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP

# Columns of cases.tsv are found by name, not position.
col() { head -n 1 "$corpus/cases.tsv" | tr '\t' '\n' | grep -n -x "$1" | cut -d: -f1; }
c_case=$(col case); c_tier=$(col tier)
if [ -z "$c_case" ] || [ -z "$c_tier" ]; then
    echo "cases.tsv lacks the case/tier columns"
    exit 1
fi
tail -n +2 "$corpus/cases.tsv" | cut -f "$c_case,$c_tier" >"$work/cases"

pf=0; pp=0; pfields=0; pbad=0; failed=""
of=0; op=0; ofields=0; obad=0
while IFS="$(printf '\t')" read -r name tier; do
    trace=$corpus/$name/trace.pcap
    if [ ! -f "$trace" ]; then
        echo "MISSING trace for case $name"
        failed="$failed $name(missing)"
        continue
    fi
    out=$(python3 "$golden/compare_tshark.py" --tcplens "$tcplens" --details 10 "$trace") && crc=0 || crc=$?
    line=$(echo "$out" | grep '^# ' | tail -n 1)
    echo "== $name (tier $tier)"
    echo "$out" | grep -v '^#' || true
    # "# trace.pcap: P packets, F fields compared, M mismatches"
    # shellcheck disable=SC2046 # three numbers, split on purpose
    set -- $(echo "$line" | sed -n 's/^# [^:]*: \([0-9]*\) packets, \([0-9]*\) fields compared, \([0-9]*\) mismatches$/\1 \2 \3/p')
    [ $# = 3 ] || set -- 0 0 0
    echo "   $name: $1 packets, $2 fields compared, $3 mismatches (exit $crc)"
    if [ "$tier" = plain ]; then
        pf=$((pf + 1)); pp=$((pp + $1)); pfields=$((pfields + $2)); pbad=$((pbad + $3))
        [ "$crc" = 0 ] || failed="$failed $name"
    else
        of=$((of + 1)); op=$((op + $1)); ofields=$((ofields + $2)); obad=$((obad + $3))
    fi
done <"$work/cases"

echo "# corpus plain: $pf files, $pp packets, $pfields fields compared, $pbad mismatches"
echo "# corpus other tiers (informational): $of files, $op packets, $ofields fields compared, $obad mismatches"
[ "$pf" -gt 0 ] || { echo "no plain case was compared"; exit 1; }
if [ -n "$failed" ]; then
    echo "plain cases with mismatches or errors:$failed"
    exit 1
fi
