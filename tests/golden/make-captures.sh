#!/bin/bash
# make-captures.sh -- record real kernel TCP traffic into capture files.
#
#   make-captures.sh OUTDIR
#
# Runs the tcpgen scenarios (build/tests/tools/tcpgen, or $TCPGEN) over
# 127.0.0.1 and ::1 inside a private network namespace (unshare -n as root,
# a user namespace otherwise), each recorded by tcpdump on lo, plus: nanosecond
# timestamps, a 96-byte snap length, `-i any` in SLL2 and SLL, a veth pair
# between two namespaces (real Ethernet MACs, MTU 1500) and a pcapng with two
# interfaces of different link types. Writes OUTDIR/*.pcap, *.pcapng and
# OUTDIR/captures.tsv (file, link type, what is in it).
# Exit 0 on success, 77 when namespaces are not available (with the reason
# as the last line), 1 on any failure.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=${TL_TOP:-$(cd "$here/../.." && pwd)}

if [ "${1:-}" != --inside ]; then
    [ $# -eq 1 ] || { echo "usage: make-captures.sh OUTDIR" >&2; exit 2; }
    mkdir -p "$1"
    out=$(cd "$1" && pwd)
    tcpgen=${TCPGEN:-${TL_BUILD:-$top/build}/tests/tools/tcpgen}
    [ -x "$tcpgen" ] || { echo "make-captures: no tcpgen at $tcpgen (make all)"; exit 1; }
    for tool in tcpdump unshare ip mergecap; do
        command -v "$tool" >/dev/null || { echo "make-captures: $tool is not installed"; exit 77; }
    done
    # Not root: a user namespace that maps the caller's own uid and keeps
    # the namespace's capabilities as ambient ones, so tcpdump can capture
    # without trying to drop root to a user that is not mapped there.
    if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
        set -- -n
    elif unshare -n --map-current-user --keep-caps true 2>/dev/null; then
        set -- -n --map-current-user --keep-caps
    else
        echo "make-captures: cannot create a network namespace (not root, and unshare -n --map-current-user --keep-caps is refused)"
        exit 77
    fi
    # Everything below runs in the new namespace: it and all its interfaces
    # vanish when the last process in it exits, whatever happens.
    exec unshare "$@" -- bash "$0" --inside "$out" "$tcpgen"
fi

out=$2
tcpgen=$3
tdpid=""
nspid=""
logdir=$(mktemp -d)

cleanup() {
    if [ -n "$tdpid" ]; then kill -INT "$tdpid" 2>/dev/null || true; wait "$tdpid" 2>/dev/null || true; fi
    if [ -n "$nspid" ]; then kill "$nspid" 2>/dev/null || true; wait "$nspid" 2>/dev/null || true; fi
    rm -rf "$logdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip link set lo up
# tcpdump drops root to user "tcpdump" when it is root; keep root so it can
# write into OUTDIR whoever owns it (the namespace is ours alone).
zopt=()
[ "$(id -u)" = 0 ] && zopt=(-Z root)

# start_capture NAME IFACE [tcpdump options...]: returns once tcpdump is
# capturing (it said "listening on").
start_capture() {
    cur=$1; local iface=$2
    shift 2
    : >"$logdir/$cur.err"
    # -B: a 32 MiB ring, so 64 KiB loopback segments in bulk are not dropped.
    tcpdump -i "$iface" -n -U --immediate-mode -B 32768 "${zopt[@]}" "$@" -w "$out/$cur" \
        2>"$logdir/$cur.err" &
    tdpid=$!
    local i=0
    until grep -q "listening on" "$logdir/$cur.err"; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$tdpid" 2>/dev/null; then
            echo "make-captures: tcpdump did not start for $cur:" >&2
            cat "$logdir/$cur.err" >&2
            exit 1
        fi
        sleep 0.05
    done
}

# stop_capture: lets the last segments through, then SIGINT and wait.
stop_capture() {
    sleep 0.3
    kill -INT "$tdpid"
    wait "$tdpid" || { echo "make-captures: tcpdump failed for $cur" >&2; cat "$logdir/$cur.err" >&2; exit 1; }
    tdpid=""
    grep -q "^0 packets dropped by kernel" "$logdir/$cur.err" ||
        { echo "make-captures: $cur: kernel dropped packets" >&2; cat "$logdir/$cur.err" >&2; exit 1; }
    local n
    n=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured.*/\1/p' "$logdir/$cur.err")
    echo "captured $cur: $n packets"
}

describe() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out/captures.tsv"; }

# gen [-S NETNS] SCENARIO ADDR PORT: a tcpgen run that must succeed.
gen() {
    "$tcpgen" -q "$@" || { echo "make-captures: tcpgen $* failed" >&2; exit 1; }
}

printf 'file\tlinktype\tcontent\n' >"$out/captures.tsv"

# 1. Every scenario over IPv4 and IPv6 on lo (DLT_EN10MB, zero MACs).
port=8000
for sc in normal fin3 fin4 rst close-then-send unread shutdown refused bulk multi; do
    start_capture "lo-$sc.pcap" lo
    gen "$sc" 127.0.0.1 "$port"
    gen "$sc" ::1 $((port + 1))
    stop_capture
    describe "lo-$sc.pcap" EN10MB "$sc over 127.0.0.1:$port then [::1]:$((port + 1))"
    port=$((port + 10))
done

# 2. Nanosecond timestamps.
start_capture lo-nano.pcap lo --time-stamp-precision=nano
gen normal 127.0.0.1 8200
gen rst ::1 8201
stop_capture
describe lo-nano.pcap EN10MB "nanosecond pcap: normal v4, rst v6"

# 3. Snap length 96: payload cut short, lengths must come from the IP header.
start_capture lo-snap96.pcap lo -s 96
gen bulk 127.0.0.1 8210
gen normal ::1 8211
stop_capture
describe lo-snap96.pcap EN10MB "snaplen 96: bulk v4, normal v6"

# 4. -i any: Linux cooked headers v2 and v1.
start_capture any-sll2.pcap any -y LINUX_SLL2
gen normal 127.0.0.1 8220
gen close-then-send ::1 8221
stop_capture
describe any-sll2.pcap LINUX_SLL2 "-i any: normal v4, close-then-send v6"

start_capture any-sll.pcap any -y LINUX_SLL
gen unread 127.0.0.1 8230
gen shutdown ::1 8231
stop_capture
describe any-sll.pcap LINUX_SLL "-i any: unread v4, shutdown v6"

# 5. A veth pair between this namespace (client, 192.0.2.1, 2001:db8::1) and
# a second one (server, 192.0.2.2, 2001:db8::2): real MACs, MTU 1500.
unshare -n sleep 300 &
nspid=$!
for _ in $(seq 100); do
    [ "$(readlink "/proc/$nspid/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.02
done
ip link add tlg0 type veth peer name tlg1
ip link set tlg1 netns "/proc/$nspid/ns/net"
ip addr add 192.0.2.1/24 dev tlg0
ip -6 addr add 2001:db8::1/64 dev tlg0 nodad
ip link set tlg0 up
nsenter --net="/proc/$nspid/ns/net" sh -c '
    ip link set lo up &&
    ip addr add 192.0.2.2/24 dev tlg1 &&
    ip -6 addr add 2001:db8::2/64 dev tlg1 nodad &&
    ip link set tlg1 up'
# ARP and neighbour discovery happen inside the capture: non-TCP frames that
# tcplens must count and skip.
start_capture veth.pcap tlg0
gen -S "/proc/$nspid/ns/net" normal 192.0.2.2 8240
gen -S "/proc/$nspid/ns/net" rst 2001:db8::2 8241
gen -S "/proc/$nspid/ns/net" bulk 192.0.2.2 8242
gen -S "/proc/$nspid/ns/net" refused 2001:db8::2 8243
stop_capture
describe veth.pcap EN10MB "veth pair: normal v4, rst v6, bulk v4, refused v6"

# 6. pcapng with two interfaces of different link types (EN10MB and SLL2).
mergecap -F pcapng -w "$out/merged.pcapng" "$out/lo-rst.pcap" "$out/any-sll2.pcap"
describe merged.pcapng EN10MB+LINUX_SLL2 "pcapng, two interfaces: lo-rst.pcap merged with any-sll2.pcap"
echo "captured merged.pcapng: mergecap of lo-rst.pcap and any-sll2.pcap"
