#!/bin/sh
# test_lab_scenarios.sh -- every lab scenario, as root (tracepoint) and as
# nobody (user namespace, sock_diag polling): all checks must pass, and each
# scenario's pcap must open in tshark and tcpdump. Exit 77 when the lab
# cannot run here (no user/network namespaces, no TUN or veth).
B=${1:-build}
TCPLENS=${TCPLENS:-$B/tcplens}
[ -x "$TCPLENS" ] || { echo "no $TCPLENS"; exit 77; }
TCPLENS=$(cd "$(dirname "$TCPLENS")" && pwd)/$(basename "$TCPLENS")
tmp=$(mktemp -d /tmp/tl-lab.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
names=$("$TCPLENS" lab --list | awk '{print $1}')
[ "$(echo "$names" | wc -l)" -eq 15 ] || { echo "expected 15 scenarios in lab --list"; exit 1; }

# Can the lab run at all? A skip record says why not.
probe=$("$TCPLENS" lab refused --json 2>&1)
if echo "$probe" | grep -q '"type":"skip"'; then
    echo "lab cannot run here: $(echo "$probe" | sed -n 's/.*"reason":"\([^"]*\)".*/\1/p')"
    exit 77
fi

as_user() {
    if [ "$1" = root ]; then shift; "$@"
    elif command -v setpriv >/dev/null; then shift; setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    else shift; runuser -u nobody -- "$@"
    fi
}

fail=0
# root and nobody over IPv4, then over IPv6 (lab -6): every scenario as root,
# as nobody those whose wire rules or kernel views differ most.
for run in root nobody root6 nobody6; do
    who=${run%6} fam=
    [ "$run" != "$who" ] && fam=-6
    list=$names
    [ "$run" = nobody6 ] && list="handshake simultaneous-close lost-segment kill-server"
    dir=$tmp/$run
    mkdir -p "$dir" && chmod 777 "$dir"
    for s in $list; do
        out=$dir/$s.json
        (cd "$tmp" && as_user $who "$TCPLENS" lab $fam "$s" --json -w "$dir") > "$out" 2>&1
        rc=$?
        if grep -q '"type":"skip"' "$out"; then
            echo "$run $s: SKIPPED, never passed: $(grep '"type":"skip"' "$out")"; fail=1; continue
        fi
        nok=$(grep -c '"type":"check".*"ok":true' "$out")
        nbad=$(grep -c '"type":"check".*"ok":false' "$out")
        if [ $rc -ne 0 ] || [ "$nbad" -ne 0 ] || [ "$nok" -lt 4 ]; then
            echo "FAIL $run $s (exit $rc, $nok passed, $nbad failed checks)"
            grep '"ok":false' "$out" | head -5
            # the wire as captured, and the calls and kernel states, so that
            # a failure in CI can be read from its log
            tcpdump -n -tt -r "$dir/$s.pcap" 2>/dev/null | tail -30 | sed 's/^/     | /'
            grep '"type":"call"\|"type":"kstate"' "$out" | sed 's/"scenario":"[^"]*",//' | cut -c1-220 |
                tail -30 | sed 's/^/     : /'
            fail=1
        fi
        # every record carries the scenario
        if grep -v '"scenario":"'"$s"'"' "$out" | grep -q .; then
            echo "FAIL $run $s: a record without \"scenario\""; fail=1
        fi
        pcap=$dir/$s.pcap
        if ! tshark -r "$pcap" >/dev/null 2>"$dir/$s.tshark"; then
            echo "FAIL $run $s: tshark -r $pcap"; cat "$dir/$s.tshark"; fail=1
        elif grep -iv "running as user" "$dir/$s.tshark" | grep -q .; then
            echo "FAIL $run $s: tshark -r $pcap complains"; cat "$dir/$s.tshark"; fail=1
        fi
        if ! tcpdump -r "$pcap" >/dev/null 2>"$dir/$s.tcpdump"; then
            echo "FAIL $run $s: tcpdump -r $pcap"; cat "$dir/$s.tcpdump"; fail=1
        fi
        # the family asked for, in the sockets and on the wire
        v=4; [ -n "$fam" ] && v=6
        other=IP6; [ $v = 6 ] && other=IP
        if ! grep -q '"type":"scenario".*"ip_version":'$v "$out" ||
           ! grep -q '"call":"socket","args":"AF_INET'"${fam:+6}"', SOCK_STREAM"' "$out" ||
           tcpdump -n -r "$pcap" 2>/dev/null | awk '{print $2}' | grep -qx "$other"; then
            echo "FAIL $run $s: not all IPv$v (scenario record, socket calls, packets in $pcap)"; fail=1
        fi
    done
    src=$(grep -ho '"kernel_source":"[a-z_]*"' "$dir"/*.json | sort -u | tr '\n' ' ')
    echo "# lab as $who${fam:+ over IPv6}: $(echo $list | wc -w) scenarios, kernel states from $src"
done

# The issue's required outcomes, from the root run's records.
d=$tmp/root
need() { grep -q "$2" "$d/$1.json" || { echo "FAIL $1: missing $2"; fail=1; }; }
need close-then-send '"call":"send".*"ret":-1,"errno":"EPIPE","signal":"SIGPIPE"'
need close-then-send '"side":"server","call":"send".*"errno":"EBADF"'
need close-then-send '"call":"recv".*"ret":0,'
need time-wait '"errno":"EADDRINUSE"'
need refused '"errno":"ECONNREFUSED"'
need unread-data '"call":"recv".*"errno":"ECONNRESET"'
need syn-timeout '"errno":"ETIMEDOUT"'
need coalesce '"call":"recv","args":"1024 bytes","ret":21'
need coalesce '"type":"event",.*"event":"coalesced","by":"server",.*"value":3'
need simultaneous-close '"type":"state".*"endpoint":"client","from":"FIN-WAIT-1","to":"CLOSING"'
need simultaneous-close '"type":"state".*"endpoint":"server","from":"FIN-WAIT-1","to":"CLOSING"'
need kill-server '"to":"CLOSE-WAIT","source":"sock_diag"'
need kill-server '"to":"FIN-WAIT-2","source":"sock_diag"'
[ $fail -eq 0 ] && echo "# all 15 lab scenarios pass as root and as nobody, over IPv4 and IPv6; pcaps open in tshark and tcpdump"
exit $fail
