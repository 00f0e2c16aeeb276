#!/bin/sh
# test_bench_gen.sh -- the benchmark's generator (bench/gen.c) cannot rot:
# its files are deterministic, tshark finds them well formed (checksums good,
# no malformed or error items, IP lengths true in the headers-only variant,
# no ACK of an unseen segment, reordering exactly where it was made), and
# tcplens finds the connections, openings, closings and events the generator
# says it made (tests/bench/bench_expect.py), simultaneous opens included.
# Small files, a few seconds.
# Exit 0 pass, 1 fail, 77 skip (reason on the last line).
set -eu

top=${TL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TL_BUILD:-$top/build}
tcplens=${TCPLENS:-$build/tcplens}

skip() { echo "$1"; exit 77; }
command -v tshark >/dev/null 2>&1 || skip "skip: tshark is not installed (make deps)"
command -v python3 >/dev/null 2>&1 || skip "skip: python3 is not installed (make deps)"
[ -x "$tcplens" ] || skip "skip: no tcplens binary at $tcplens (make all)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$work/gen" "$top/bench/gen.c" -lm

# Simultaneous opens included (-S 50: 5 %): tcplens records crossing SYNs as
# one connection opened simultaneously (SPEC 2.3).
small="-n 20000 -c 500 -k 100 -s 5 -S 50"
# shellcheck disable=SC2086
"$work/gen" -o "$work/full.pcap" -e "$work/full.exp" $small 2>/dev/null
# shellcheck disable=SC2086
"$work/gen" -o "$work/again.pcap" $small 2>/dev/null
# shellcheck disable=SC2086
"$work/gen" -o "$work/hdr.pcap" -e "$work/hdr.exp" $small -H 2>/dev/null
"$work/gen" -o "$work/seed6.pcap" -n 20000 -c 500 -k 100 -s 6 -S 50 2>/dev/null

# 1. Deterministic: same arguments, same bytes; another seed, other bytes.
cmp -s "$work/full.pcap" "$work/again.pcap" || bad "same arguments gave different files"
cmp -s "$work/full.pcap" "$work/seed6.pcap" && bad "another seed gave the same file"

want() { awk -v k="$1" -v e="$2" '$1==k && $2==e {print $3}' "$work/full.exp"; }
npk=$(awk '$1=="packets"{print $2}' "$work/full.exp")
[ "$npk" = 20000 ] || bad "summary says $npk packets, asked for 20000"

# 2. tshark: checksums (checked), lengths, no errors, analysis as intended.
# Desegmentation is off: the payload is random text, not an application protocol.
ts() { tshark -o tcp.desegment_tcp_streams:FALSE -o tcp.check_checksum:TRUE \
              -o ip.check_checksum:TRUE "$@" 2>/dev/null; }
count() { ts -r "$1" -Y "$2" | wc -l; }
n=$(count "$work/full.pcap" "tcp")
[ "$n" = 20000 ] || bad "tshark sees $n TCP packets in the full file, want 20000"
n=$(count "$work/full.pcap" "tcp.checksum.status != 1 || (ip && ip.checksum.status != 1)")
[ "$n" = 0 ] || bad "$n packets with a bad or unverified IP/TCP checksum"
for f in full hdr; do
    n=$(count "$work/$f.pcap" "_ws.malformed || _ws.expert.severity == error || frame.time_delta < 0")
    [ "$n" = 0 ] || bad "$f: $n malformed/error packets or timestamps going back"
    n=$(count "$work/$f.pcap" "tcp.analysis.ack_lost_segment")
    [ "$n" = 0 ] || bad "$f: $n ACKs of segments never sent (seq/ack inconsistent)"
    ooo=$(count "$work/$f.pcap" "tcp.analysis.out_of_order")
    [ "$ooo" = "$(want event out_of_order)" ] ||
        bad "$f: tshark finds $ooo out-of-order segments, generator made $(want event out_of_order)"
    # Expert warnings from TCP: only the reordering gaps and RSTs the generator made.
    ts -r "$work/$f.pcap" -q -z expert >"$work/$f.expert"
    if grep -q '^Errors' "$work/$f.expert"; then bad "$f: tshark reports errors"; cat "$work/$f.expert"; fi
    awk '/^Warns/{w=1; next} /^[A-Z][a-z]+ \(/{w=0} w && $3=="TCP"' "$work/$f.expert" |
        grep -v -e 'Previous segment(s) not captured' -e 'out-of-order segment' \
                -e 'Connection reset (RST)' >"$work/$f.warn" || true
    if [ -s "$work/$f.warn" ]; then bad "$f: unexpected TCP warnings"; cat "$work/$f.warn"; fi
done
# Headers only: caplen = min(96, len), IP lengths as on the wire.
n=$(count "$work/hdr.pcap" "frame.cap_len > 96 || (frame.len <= 96 && frame.cap_len != frame.len)")
[ "$n" = 0 ] || bad "hdr: $n records with a wrong capture length"
n=$(count "$work/hdr.pcap" "(ip && ip.len + 14 != frame.len) || (ipv6 && ipv6.plen + 54 != frame.len)")
[ "$n" = 0 ] || bad "hdr: $n packets whose IP length is not the wire length"
n=$(count "$work/hdr.pcap" "frame.cap_len < frame.len")
[ "$n" -gt 1000 ] || bad "hdr: only $n packets were cut at the snap length"

# 3. tcplens finds what was generated, on both files.
for f in full hdr; do
    "$tcplens" read --json "$work/$f.pcap" >"$work/$f.json" || bad "$f: tcplens read failed"
    if ! python3 "$top/tests/bench/bench_expect.py" "$work/$f.exp" "$work/$f.json" >"$work/$f.cmp"; then
        bad "$f: tcplens disagrees with the generator"
        cat "$work/$f.cmp"
    fi
done
[ "$(want opened simultaneous_open)" -gt 0 ] || bad "the small file has no simultaneous open to check"

# 4. Many simultaneous opens (25 %): each is one connection, opened so.
"$work/gen" -o "$work/so.pcap" -e "$work/so.exp" -n 4000 -c 100 -k 20 -S 250 2>/dev/null
"$tcplens" read --json "$work/so.pcap" >"$work/so.json" || bad "so: tcplens read failed"
if ! python3 "$top/tests/bench/bench_expect.py" "$work/so.exp" "$work/so.json" >"$work/so.cmp"; then
    bad "so: tcplens disagrees with the generator on simultaneous opens"
    cat "$work/so.cmp"
fi
echo "# gen: $(grep -c . "$work/full.cmp") counts (connections, openings, closings, events) agree with tcplens," \
     "$(awk '$1=="opened" && $2=="simultaneous_open"{print $3}' "$work/so.exp") simultaneous opens too; tshark finds the files clean"

[ "$fail" = 0 ] && echo "all generator checks passed"
exit "$fail"
