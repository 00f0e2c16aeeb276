#!/bin/sh
# test_kernel_states.sh -- the states tcplens infers from a capture agree with
# the Linux kernel's own transitions, for real client/server scenarios, over
# IPv4 and IPv6 (issue #3).
#
# In a private network namespace (nothing on the host is touched): for each
# tcpgen scenario, capture loopback with tcpdump, record the kernel's
# transitions from the sock:inet_sock_set_state tracepoint (in a tracefs
# instance of our own, filtered by the scenario's port), snapshot the sockets
# with `ss -tan` (sock_diag) at tcpgen's checkpoints and after the scenario
# (TIME-WAIT and orphaned FIN-WAIT-2 live in timewait sockets the tracepoint
# does not follow), then compare each endpoint's states with the "state"
# records of `$TCPLENS read FILE --json` (compare_states.py). Each scenario
# also names the events tcplens must report.
#
# As root: mount + network namespace, tracepoint and snapshots. As another
# user: a user + network namespace, snapshots only (tracefs is root's); the
# summary lines say which. Needs tcpdump, ss, unshare, python3, $TCPLENS and
# tcpgen ($TL_BUILD/tests/tools/tcpgen); exits 77 with the reason when one is
# missing or no namespace can be made.
set -u

skip() { echo "$*"; exit 77; }

HERE=$(cd "$(dirname "$0")" && pwd)
TCPGEN=${TCPGEN:-${TL_BUILD:-build}/tests/tools/tcpgen}

if [ -z "${TL_KSTATES_INNER:-}" ]; then
    [ -n "${TCPLENS:-}" ] && [ -x "$TCPLENS" ] || skip "no tcplens binary (\$TCPLENS='${TCPLENS:-}')"
    [ -x "$TCPGEN" ] || skip "no tcpgen helper at $TCPGEN (make all builds it)"
    for tool in tcpdump ss unshare python3 ip; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
    done
    TCPGEN=$(cd "$(dirname "$TCPGEN")" && pwd)/$(basename "$TCPGEN")
    TCPLENS=$(cd "$(dirname "$TCPLENS")" && pwd)/$(basename "$TCPLENS")
    export TCPGEN TCPLENS
    if [ "$(id -u)" = 0 ]; then
        unshare --mount --net --propagation private true 2>/dev/null ||
            skip "cannot create a network namespace (unshare --net failed)"
        TL_KSTATES_INNER=root exec unshare --mount --net --propagation private sh "$0" "$@"
    fi
    # Our own uid inside, with the namespace's capabilities kept as ambient
    # ones: tcpdump can capture and, not being uid 0, drops no privileges.
    unshare --user --map-current-user --keep-caps --net true 2>/dev/null ||
        skip "not root and no user namespaces: cannot make a private network"
    TL_KSTATES_INNER=user exec unshare --user --map-current-user --keep-caps --net sh "$0" "$@"
fi

# ---- inside the private namespaces -------------------------------------
ip link set lo up || skip "cannot bring up loopback in the namespace"
WORK=$(mktemp -d /tmp/tl_kstates.XXXXXX)
# Copies: a rebuild of the tree during the run must not swap binaries mid-test.
cp "$TCPLENS" "$WORK/tcplens" && cp "$TCPGEN" "$WORK/tcpgen" || exit 1
TCPLENS=$WORK/tcplens
TCPGEN=$WORK/tcpgen
TR=/sys/kernel/tracing
EV=events/sock/inet_sock_set_state
INST=
notrace=
if [ "$TL_KSTATES_INNER" != root ]; then
    notrace="not root: the tracepoint (tracefs) is out of reach"
elif [ ! -d "$TR/instances" ] && ! mount -t tracefs nodev "$TR" 2>/dev/null; then
    notrace="tracefs cannot be mounted"
elif [ ! -d "$TR/$EV" ]; then
    notrace="kernel has no sock:inet_sock_set_state tracepoint"
elif ! mkdir "$TR/instances/tl_kstates_$$" 2>/dev/null; then
    notrace="cannot create a tracefs instance"
else
    INST=$TR/instances/tl_kstates_$$
fi
[ -n "$notrace" ] && echo "# $notrace; comparing sock_diag (ss) snapshots only"
DROP=
[ "$(id -u)" = 0 ] && DROP="-Z root"     # keep the capture file ours

cleanup() {
    [ -n "${TDPID:-}" ] && kill "$TDPID" 2>/dev/null
    if [ -n "$INST" ]; then
        echo 0 > "$INST/$EV/enable" 2>/dev/null
        rmdir "$INST" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Private addresses keep other namespaces' traffic (the tracepoint is
# global) out of the comparison.
ADDR4=127.$(( ($$ / 250) % 250 + 1 )).$(( $$ % 250 + 1 )).1
ADDR6=$(printf 'fd00:7c1e:%x::1' $(( $$ % 65536 )))
families="4"
if ip -6 addr add "$ADDR6/128" dev lo nodad 2>"$WORK/ip6.err"; then
    families="4 6"
else
    echo "# IPv6 unavailable here ($(cat "$WORK/ip6.err")): IPv4 only"
fi
BASE=$(( 20000 + ($$ % 1500) * 30 ))

# scenario [--conns N] [--event NAME]... [--expect CHECKPOINT:ENDPOINT=STATE]...:
# what tcplens must report besides states that agree with the kernel's, and
# the kernel states that make the scenario what it is meant to be
SCENARIOS='normal
fin3 --event close_3way
fin4 --event close_4way
rst --event rst_abort --expect established:server=ESTABLISHED
close-then-send --event rst_closed_socket --expect server-closed:client=CLOSE-WAIT
unread --event rst_unread_data
shutdown --event half_close --expect server-shut:server=FIN-WAIT-2
refused --event refused
half-close --event half_close --expect half-closed:client=FIN-WAIT-2 --expect half-closed:server=CLOSE-WAIT
multi --conns 3 --event port_reused --expect conn1:server=TIME-WAIT --expect conn2:server=TIME-WAIT
kill-server --event fin --event close_4way --expect server-killed:client=CLOSE-WAIT --expect server-killed:server=FIN-WAIT-2'

fail=0
i=0
for fam in $families; do
    if [ "$fam" = 6 ]; then addr=$ADDR6; suffix=/ipv6; else addr=$ADDR4; suffix=; fi
    echo "$SCENARIOS" > "$WORK/list"
    while read -r sc want; do
        label=$sc$suffix
        f=$WORK/$sc.$fam
        port=$((BASE + i)); i=$((i + 1))

        if [ -n "$INST" ]; then
            echo "sport == $port || dport == $port" > "$INST/$EV/filter"
            echo > "$INST/trace"
            echo 1 > "$INST/$EV/enable"
        fi
        tcpdump $DROP -i lo -U --immediate-mode -w "$f.pcap" "tcp port $port" 2>"$f.tcpdump" &
        TDPID=$!
        n=0
        until grep -q "listening on" "$f.tcpdump" 2>/dev/null; do
            n=$((n + 1))
            [ $n -gt 50 ] && { echo "$label: tcpdump did not start"; cat "$f.tcpdump"; exit 1; }
            sleep 0.1
        done

        : > "$f.cp"
        "$TCPGEN" -q -c "{ s=\$(ss -tan); echo \"@ \$TCPGEN_CHECKPOINT \$TCPGEN_TIME \$(date +%s.%N)\"; echo \"\$s\"; } >> '$f.cp'" \
            "$sc" "$addr" "$port" > "$f.tcpgen" 2>&1
        rc=$?
        sleep 0.3                        # the last ACKs
        ss -tan > "$f.ss"
        if [ -n "$INST" ]; then
            echo 0 > "$INST/$EV/enable"
            cat "$INST/trace" > "$f.trace"
        fi
        kill -INT "$TDPID"; wait "$TDPID"; TDPID=

        if [ $rc -ne 0 ]; then
            echo "$label: tcpgen saw unexpected socket results (exit $rc):"
            cat "$f.tcpgen"
            fail=1
            continue
        fi
        if ! "$TCPLENS" read "$f.pcap" --json > "$f.json" 2> "$f.err"; then
            echo "$label: tcplens read failed:"; cat "$f.err"
            fail=1
            continue
        fi
        trace=-
        [ -n "$INST" ] && trace=$f.trace
        # $want is a list of options: split on purpose
        # shellcheck disable=SC2086
        python3 "$HERE/compare_states.py" $want "$label" "$addr" "$port" "$trace" \
            "$f.ss" "$f.cp" "$f.json" || fail=1
    done < "$WORK/list"
done
exit $fail
