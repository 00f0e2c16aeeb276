#!/bin/bash
# test_analysis_tshark.sh -- tcplens's per-packet analysis flags against
# tshark's tcp.analysis.* on real kernel traffic with loss, reordering, zero
# windows and keep-alives, and on the Zeek corpus.
#
# Captures: two network namespaces joined by a userspace wire
# (analysis_wire.py: loss / delay / reorder, like tc netem, which this kernel
# may not have), Linux endpoints from analysis_endpoints.py, tcpdump on both
# ends of the wire. Each capture must agree with tshark on >= 99% of the
# packets carrying each flag (both / either). The corpus figures
# (../shared/corpus/zeek/*/trace.pcap, tier plain) are printed, not enforced.
# Needs root, ip netns, /dev/net/tun, tshark, tcpdump, python3; exit 77 without.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${TL_TOP:-$(cd "$HERE/../.." && pwd)}
TCPLENS=${TCPLENS:-$TOP/build/tcplens}
MIN=99

skip() { echo "skip: $*"; exit 77; }
for tool in tshark tcpdump python3 ip; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
[ -x "$TCPLENS" ] || skip "no tcplens binary at $TCPLENS (make first)"
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces and TUN devices"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

NS_A=tla$$
NS_B=tlb$$
ip netns add "$NS_A" 2>/dev/null || skip "cannot create network namespaces (ip netns add failed)"
ip netns add "$NS_B" 2>/dev/null || { ip netns del "$NS_A"; skip "cannot create network namespaces"; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$NS_A" 2>/dev/null
    ip netns del "$NS_B" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# capture NAME MODE LOSS DELAY_MS REORDER SEED: writes $WORK/NAME-{client,server}.pcap
capture() {
    local name=$1 mode=$2 port=$((5000 + RANDOM % 1000))
    python3 "$HERE/analysis_wire.py" "$NS_A" "$NS_B" "$3" "$4" "$5" "$6" 40 >"$WORK/wire.out" 2>&1 &
    local wire=$!
    PIDS+=("$wire")
    for _ in $(seq 50); do grep -q ready "$WORK/wire.out" && break; sleep 0.1; done
    grep -q ready "$WORK/wire.out" || { cat "$WORK/wire.out"; return 1; }
    ip -n "$NS_A" link set lo up
    ip -n "$NS_B" link set lo up
    ip -n "$NS_A" addr replace 192.0.2.1 peer 192.0.2.2 dev tlw0
    ip -n "$NS_B" addr replace 192.0.2.2 peer 192.0.2.1 dev tlw1
    ip -n "$NS_A" link set tlw0 up
    ip -n "$NS_B" link set tlw1 up
    ip netns exec "$NS_A" tcpdump -n -U -s 256 -i tlw0 -w "$WORK/$name-client.pcap" 2>/dev/null &
    local dump_a=$!
    ip netns exec "$NS_B" tcpdump -n -U -s 256 -i tlw1 -w "$WORK/$name-server.pcap" 2>/dev/null &
    local dump_b=$!
    PIDS+=("$dump_a" "$dump_b")
    sleep 1
    ip netns exec "$NS_B" python3 "$HERE/analysis_endpoints.py" server "$mode" "$port" &
    local srv=$!
    PIDS+=("$srv")
    sleep 0.3
    local st=0
    timeout 60 ip netns exec "$NS_A" python3 "$HERE/analysis_endpoints.py" client "$mode" 192.0.2.2 "$port" || st=1
    wait "$srv" || st=1
    sleep 0.5
    kill -INT "$dump_a" "$dump_b" 2>/dev/null
    wait "$dump_a" "$dump_b" 2>/dev/null
    kill "$wire" 2>/dev/null
    wait "$wire" 2>/dev/null
    # The kernel unregisters a TUN device after its fd closes, not at once
    # (slowly on a loaded machine); the next capture needs the names again.
    for _ in $(seq 50); do
        ip -n "$NS_A" link show tlw0 >/dev/null 2>&1 || ip -n "$NS_B" link show tlw1 >/dev/null 2>&1 || break
        sleep 0.1
    done
    [ $st = 0 ] || echo "capture $name: an endpoint failed"
    return $st
}

compare() {   # compare PCAP [--min N]: prints the table, returns its status
    local pcap=$1
    shift
    "$TCPLENS" read "$pcap" --json >"$WORK/out.jsonl" 2>"$WORK/err" || {
        echo "tcplens read $pcap failed: $(head -3 "$WORK/err")"
        return 1
    }
    python3 "$HERE/analysis_compare.py" "$@" "$pcap" "$WORK/out.jsonl"
}

fail=0
n_caps=0
echo "== self-made captures (>= $MIN% per flag required)"
capture lossy bulk 0.05 10 0.25 1 || fail=1
capture lossy2 bulk 0.02 5 0.10 2 || fail=1
capture zerowin zerowin 0 2 0 3 || fail=1
capture keepalive keepalive 0 2 0 4 || fail=1
for pcap in "$WORK"/*.pcap; do
    [ -s "$pcap" ] || continue
    n_caps=$((n_caps + 1))
    echo "-- $(basename "$pcap") ($(tshark -r "$pcap" 2>/dev/null | wc -l) packets)"
    compare "$pcap" --min "$MIN" >"$WORK/cmp.txt"
    st=$?
    cat "$WORK/cmp.txt"
    [ $st = 0 ] || fail=1
    cat "$WORK/cmp.txt" >>"$WORK/all.txt"
done
[ "$n_caps" -ge 8 ] || { echo "only $n_caps captures were made"; fail=1; }

# Which flags the self-made captures exercised at all (tshark column > 0).
exercised=$(awk '$2 ~ /^[0-9]+$/ && $2 > 0 {print $1}' "$WORK/all.txt" 2>/dev/null | sort -u | tr '\n' ' ')

echo "== corpus (tier plain; figures only)"
CORPUS=$TOP/../shared/corpus/zeek
corpus_ok=0
corpus_n=0
if [ -f "$CORPUS/cases.tsv" ]; then
    for case in $(awk -F'\t' 'NR > 1 && $2 == "plain" {print $1}' "$CORPUS/cases.tsv"); do
        pcap=$CORPUS/$case/trace.pcap
        [ -f "$pcap" ] || continue
        corpus_n=$((corpus_n + 1))
        if compare "$pcap" --min "$MIN" >"$WORK/cmp.txt"; then
            corpus_ok=$((corpus_ok + 1))
        else
            echo "-- $case"
            grep -v ' 100.00$' "$WORK/cmp.txt"
        fi
    done
else
    echo "corpus not found at $CORPUS"
fi

echo "# analysis vs tshark: $n_caps self-made captures $([ $fail = 0 ] && echo agree || echo DISAGREE) (>= $MIN% per flag); flags seen: $exercised"
echo "# analysis vs tshark: corpus $corpus_ok/$corpus_n plain captures agree on every flag"
exit $fail
