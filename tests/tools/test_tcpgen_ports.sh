#!/bin/sh
# test_tcpgen_ports.sh -- tcpgen's multi scenario binds its first local port
# again for the next connections. A port connect() picks may be shared with
# another connection in TIME-WAIT, and binding it again then fails with
# EADDRINUSE (seen once in make test). In a private network namespace whose
# ephemeral range is six ports, three of them held in TIME-WAIT by earlier
# connections, multi must succeed every time. Exit 77 when no namespace can
# be made here.
top=${TL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TL_BUILD:-$top/build}
tcpgen=$build/tests/tools/tcpgen
[ -x "$tcpgen" ] || { echo "skip: no tcpgen at $tcpgen (make all)"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }
if [ "${1:-}" != --inside ]; then
    for how in "unshare -n" "unshare -rn"; do
        if $how true 2>/dev/null; then exec $how sh "$0" --inside; fi
    done
    echo "skip: cannot make a network namespace here"; exit 77
fi

ip link set lo up || exit 1
echo "40001 40006" > /proc/sys/net/ipv4/ip_local_port_range || exit 1
python3 - <<'PY' || exit 1
import socket, time
srv = socket.socket(socket.AF_INET6)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("::1", 9000)); srv.listen(8)
for i in range(3):  # the client closes first: its port stays in TIME-WAIT
    c = socket.socket(socket.AF_INET6); c.connect(("::1", 9000))
    s, _ = srv.accept()
    c.close(); time.sleep(0.05); s.close(); time.sleep(0.05)
PY
tw=$(awk '$4 == "06"' /proc/net/tcp6 | wc -l)   # st 06: TIME-WAIT
[ "$tw" -eq 3 ] || { echo "FAIL: expected 3 sockets in TIME-WAIT, seen $tw"; exit 1; }
fail=0
for i in $(seq 1 12); do
    "$tcpgen" -q multi ::1 $((9100 + i)) || { echo "FAIL: tcpgen multi, run $i"; fail=1; }
done
[ $fail -eq 0 ] && echo "# tcpgen multi: 12 runs beside 3 ephemeral ports in TIME-WAIT"
exit $fail
