#!/bin/bash
# demo.sh BIN -- the interim `make demo`: records one real TCP conversation
# (handshake, "hello world", close) on loopback inside a private network
# namespace with tcpdump, then shows what `BIN read` makes of it, as text and
# as JSON Lines. Works as root (unshare -n) or as a user (a user namespace).
# The capture is kept in build/demo/hello.pcap for Wireshark or tcpdump.
set -eu

if [ "${1:-}" != --inside ]; then
    [ $# -eq 1 ] || { echo "usage: tools/demo.sh path/to/tcplens" >&2; exit 2; }
    bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    [ -x "$bin" ] || { echo "demo: $1 is not built (make all)" >&2; exit 1; }
    tcpgen=${TCPGEN:-$(dirname "$bin")/tests/tools/tcpgen}
    [ -x "$tcpgen" ] || { echo "demo: no $tcpgen (make all builds it)" >&2; exit 1; }
    command -v tcpdump >/dev/null || { echo "demo: tcpdump is not installed (make deps)" >&2; exit 1; }
    outdir=$(dirname "$bin")/demo
    mkdir -p "$outdir"
    if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
        set -- -n
    elif unshare -n --map-current-user --keep-caps true 2>/dev/null; then
        set -- -n --map-current-user --keep-caps
    else
        echo "demo: cannot create a private network namespace here." >&2
        echo "demo: run it as root (sudo make demo), or allow unprivileged user namespaces" >&2
        echo "      (sysctl kernel.unprivileged_userns_clone=1)." >&2
        exit 1
    fi
    echo "==> Making a private network namespace (unshare $*): its own loopback, nothing on the host is touched."
    exec unshare "$@" -- bash "$0" --inside "$bin" "$tcpgen" "$outdir"
fi

bin=$2
tcpgen=$3
outdir=$4
pcap=$outdir/hello.pcap
tdpid=""
err=$(mktemp)
cleanup() {
    if [ -n "$tdpid" ]; then kill -INT "$tdpid" 2>/dev/null || true; wait "$tdpid" 2>/dev/null || true; fi
    rm -f "$err" "$err.json"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip link set lo up
zopt=()
[ "$(id -u)" = 0 ] && zopt=(-Z root)

echo "==> Starting tcpdump on lo, writing $pcap"
: >"$err"
tcpdump -i lo -n -U --immediate-mode "${zopt[@]}" -w "$pcap" 'tcp port 8079' 2>"$err" &
tdpid=$!
for _ in $(seq 200); do
    grep -q "listening on" "$err" && break
    kill -0 "$tdpid" 2>/dev/null || break
    sleep 0.05
done
grep -q "listening on" "$err" || { cat "$err" >&2; echo "demo: tcpdump did not start" >&2; exit 1; }

echo "==> A real server and client (two processes, the kernel's TCP) talk over 127.0.0.1:8079."
echo "    The client connects, sends \"hello world\" and closes; the server reads it, sees EOF, closes."
"$tcpgen" normal 127.0.0.1 8079
sleep 0.3
kill -INT "$tdpid"
wait "$tdpid" || true
tdpid=""
echo "==> tcpdump: $(grep -h 'packets captured' "$err")"
echo

echo "==> $(basename "$bin") read $pcap"
echo "    One line per segment with the state of BOTH endpoints after it, events underneath:"
echo
"$bin" read "$pcap"
echo

echo "==> $(basename "$bin") read --json $pcap | head -n 12"
echo "    The same as JSON Lines, for scripts (SPEC.md section 3.2):"
echo
"$bin" read --json "$pcap" >"$err.json"
head -n 12 "$err.json"
echo
echo "==> Done. The capture is kept in $pcap: open it with Wireshark, tcpdump -r, or $(basename "$bin") read."
