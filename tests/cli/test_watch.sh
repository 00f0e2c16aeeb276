#!/bin/sh
# test_watch.sh -- `tcplens watch` on real traffic in a private network
# namespace: JSON shows every packet with both states, Ctrl-C (SIGINT) ends it
# with the summary and capture statistics, the -w file opens in tshark and
# tcpdump and holds what was shown, root and every capability are gone after
# the capture opened, -c ends it, and bad interface / bad filter exit 2.
set -u
T=${TCPLENS:-build/tcplens}
top=${TL_TOP:-$(pwd)}
tcpgen=${TL_BUILD:-$top/build}/tests/tools/tcpgen

if [ "${1:-}" != --inside ]; then
    [ -x "$T" ] && [ -x "$tcpgen" ] || { echo "no tcplens or tcpgen binary"; exit 77; }
    [ "$(id -u)" = 0 ] || { echo "needs root for a private network namespace and live capture"; exit 77; }
    for tool in unshare tshark tcpdump setpriv; do
        command -v $tool >/dev/null || { echo "$tool is not installed"; exit 77; }
    done
    unshare -n true 2>/dev/null || { echo "cannot create a network namespace here"; exit 77; }
    work=$(mktemp -d /tmp/tl-watch.XXXXXX)
    chmod 755 "$work"
    trap 'rm -rf "$work"' EXIT INT TERM
    exec unshare -n sh "$0" --inside "$work"
fi

work=$2
fails=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
ip link set lo up

# Waits until watch says it is listening (stderr), up to 5 s.
wait_listening() {
    i=0
    while ! grep -q 'listening on' "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 50 ] && return 1; sleep 0.1
    done
}

"$T" watch -i lo -w "$work/f.pcap" --json 'tcp port 8079' >"$work/w.json" 2>"$work/w.err" &
pid=$!
wait_listening "$work/w.err" || { cat "$work/w.err"; echo "watch did not start"; exit 1; }
status=$(cat /proc/$pid/status)
uid_line=$(echo "$status" | awk '/^Uid:/ { print $2, $3, $4, $5 }')
check "after activation no uid is 0 (Uid: $uid_line)" "echo '$uid_line' | grep -qvE '(^| )0( |$)'"
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
    v=$(echo "$status" | awk -v s="$set:" '$1 == s { print $2 }')
    check "$set is empty ($v)" "[ '$v' = 0000000000000000 ]"
done
check "no_new_privs is set" "echo '$status' | grep -qE '^NoNewPrivs:[[:space:]]+1'"

"$tcpgen" -q normal 127.0.0.1 8079 >/dev/null 2>&1 || bad "tcpgen normal failed"
"$tcpgen" -q rst 127.0.0.1 8079 >/dev/null 2>&1 || bad "tcpgen rst failed"
sleep 0.5
kill -INT $pid
wait $pid
check "SIGINT ends watch with exit 0" "[ $? = 0 ]"

packets=$(grep -c '"type":"packet"' "$work/w.json")
dumped=$(tcpdump -n -r "$work/f.pcap" 2>/dev/null | wc -l)
check "JSON shows every packet of the -w file ($packets vs tcpdump's $dumped)" "[ $packets -ge 15 ] && [ $packets = $dumped ]"
check "-w file opens in tshark" "tshark -r '$work/f.pcap' >/dev/null 2>&1"
check "packets carry both endpoints' states" \
    "grep '\"type\":\"packet\"' '$work/w.json' | head -n 3 | tail -n 1 | grep -q '\"client_state\":\"ESTABLISHED\",\"server_state\":\"ESTABLISHED\"'"
check "summary: a FIN close and an RST abort" \
    "grep -q '\"type\":\"conn\".*\"closed\":\"close_[34]way\"' '$work/w.json' && grep -q '\"type\":\"conn\".*\"closed\":\"rst_abort\"' '$work/w.json'"
check "stats record with kernel drop counts" "grep -q '\"type\":\"stats\".*\"kernel_dropped\":0' '$work/w.json'"
check "capture statistics on stderr" \
    "grep -q '^$packets packets captured' '$work/w.err' && grep -q 'dropped by kernel' '$work/w.err'"

# Text view as the seed experiment shows it: seven or eight segments, close kind.
"$T" watch -i lo -c 8 --html "$work/t.html" 'tcp port 8080' >"$work/t.txt" 2>"$work/t.err" &
pid=$!
wait_listening "$work/t.err" || bad "text watch did not start"
"$tcpgen" -q normal 127.0.0.1 8080 >/dev/null 2>&1
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill -INT $pid; bad "-c 8 did not end watch"; }
wait $pid
check "-c 8 ends after 8 packets" "grep -q '^8 packets captured' '$work/t.err'"
check "text view names the close kind" "grep -qE 'close_(3|4)way' '$work/t.txt'"
check "--html page written in a root-only folder (opened before root was dropped)" \
    "grep -q '<svg' '$work/t.html' && [ \$(stat -c %U '$work') = root ]"

# A connection gone quiet is summarised while watch runs, with no packet to
# drive the clock (the idle timer ticks on capture timeouts).
"$T" watch -i lo --json --line-buffered --idle-timeout 1 'tcp port 8081' >"$work/i.json" 2>"$work/i.err" &
pid=$!
wait_listening "$work/i.err" || bad "idle watch did not start"
python3 -c '
import socket, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 8081)); srv.listen(1)
c = socket.create_connection(("127.0.0.1", 8081)); s, _ = srv.accept()
time.sleep(5)' &
holder=$!
sleep 3.5   # the connection is still open and silent: no packet since the handshake
check "an idle connection is summarised while watch runs and the network is quiet" \
    "grep -q '\"type\":\"conn\".*\"evicted\":true' '$work/i.json'"
wait $holder
kill -INT $pid; wait $pid

"$T" watch -i no-such-if0 >/dev/null 2>"$work/e1"
check "unknown interface: exit 2 with a message" "[ $? = 2 ] && grep -q 'no-such-if0' '$work/e1'"
"$T" watch -i lo 'port 80 and' >/dev/null 2>"$work/e2"
check "bad filter: exit 2, filter shown" "[ $? = 2 ] && grep -q 'port 80 and' '$work/e2'"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$T" watch -i lo >/dev/null 2>"$work/e3"
check "unprivileged: exit 1, names CAP_NET_RAW and suggests the lab" \
    "[ $? = 1 ] && grep -q CAP_NET_RAW '$work/e3' && grep -q 'tcplens lab' '$work/e3'"

echo "# watch: $packets packets watched, $fails failed checks"
[ $fails = 0 ]
