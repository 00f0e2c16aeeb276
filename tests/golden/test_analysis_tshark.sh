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
# Each capture has its own device names and addresses: the kernel
# unregisters a TUN device some time after its fd closes (seconds on a loaded
# machine). A wire reusing the name waited for it (two captures lost in make
# test); a new device with the old one's addresses shared their route with it,
# and a connect() through the dying device failed (ECONNABORTED, make test).
n_wires=0
capture() {
    local name=$1 mode=$2 port=$((5000 + RANDOM % 1000))
    n_wires=$((n_wires + 1))
    local dev_a=tlwa$n_wires dev_b=tlwb$n_wires
    local addr_a=192.0.2.$((2 * n_wires - 1)) addr_b=192.0.2.$((2 * n_wires))
    python3 "$HERE/analysis_wire.py" "$NS_A" "$NS_B" "$3" "$4" "$5" "$6" 120 "$dev_a" "$dev_b" \
        >"$WORK/wire.out" 2>&1 &
    local wire=$!
    PIDS+=("$wire")
    for _ in $(seq 300); do
        grep -q ready "$WORK/wire.out" && break
        kill -0 "$wire" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q ready "$WORK/wire.out"; then
        echo "capture $name: the wire was not ready after 30 s: $(cat "$WORK/wire.out")"
        kill "$wire" 2>/dev/null
        return 1
    fi
    ip -n "$NS_A" link set lo up
    ip -n "$NS_B" link set lo up
    ip -n "$NS_A" addr replace "$addr_a" peer "$addr_b" dev "$dev_a" &&
        ip -n "$NS_B" addr replace "$addr_b" peer "$addr_a" dev "$dev_b" &&
        ip -n "$NS_A" link set "$dev_a" up &&
        ip -n "$NS_B" link set "$dev_b" up || {
        echo "capture $name: configuring $dev_a/$dev_b failed"
        kill "$wire" 2>/dev/null
        return 1
    }
    ip netns exec "$NS_A" tcpdump -n -U -s 256 -i "$dev_a" -w "$WORK/$name-client.pcap" 2>"$WORK/$name-dump-a.err" &
    local dump_a=$!
    ip netns exec "$NS_B" tcpdump -n -U -s 256 -i "$dev_b" -w "$WORK/$name-server.pcap" 2>"$WORK/$name-dump-b.err" &
    local dump_b=$!
    PIDS+=("$dump_a" "$dump_b")
    # tcpdump says "listening on" once its capture is open.
    for _ in $(seq 100); do
        grep -q listening "$WORK/$name-dump-a.err" && grep -q listening "$WORK/$name-dump-b.err" && break
        sleep 0.1
    done
    ip netns exec "$NS_B" python3 "$HERE/analysis_endpoints.py" server "$mode" "$port" &
    local srv=$!
    PIDS+=("$srv")
    sleep 0.3
    local st=0
    timeout 90 ip netns exec "$NS_A" python3 "$HERE/analysis_endpoints.py" client "$mode" "$addr_b" "$port" || {
        st=1
        echo "capture $name: the client failed"
    }
    wait "$srv" || { st=1; echo "capture $name: the server failed"; }
    sleep 0.5
    kill -INT "$dump_a" "$dump_b" 2>/dev/null
    wait "$dump_a" "$dump_b" 2>/dev/null
    kill "$wire" 2>/dev/null
    wait "$wire" 2>/dev/null
    for f in "$WORK/$name-client.pcap" "$WORK/$name-server.pcap"; do
        [ -s "$f" ] && continue
        st=1
        echo "capture $name: tcpdump wrote no $(basename "$f"): $(cat "$WORK/$name-dump-a.err" "$WORK/$name-dump-b.err")"
    done
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
