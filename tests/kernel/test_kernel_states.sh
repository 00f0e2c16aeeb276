#!/bin/sh
# test_kernel_states.sh -- the states tcplens infers from a capture agree with
# the Linux kernel's own transitions, for real client/server scenarios.
#
# In a private mount + network namespace (nothing on the host is touched):
# for each tcpgen scenario, capture loopback with tcpdump, record the
# kernel's transitions from the sock:inet_sock_set_state tracepoint (in a
# tracefs instance of our own, filtered by the scenario's port) and an
# `ss -tan` snapshot (TIME-WAIT lives in timewait sockets the tracepoint does
# not follow), then compare each endpoint's state sequence with the "state"
# records of `$TCPLENS read FILE --json` (compare_states.py). Each scenario
# also names the lifecycle event tcplens must report.
#
# Needs root, tcpdump, ss, unshare, python3, tracefs, $TCPLENS and tcpgen
# ($TL_BUILD/tests/tools/tcpgen); exits 77 with the reason when one is missing.
set -u

skip() { echo "$*"; exit 77; }

HERE=$(cd "$(dirname "$0")" && pwd)
TCPGEN=${TCPGEN:-${TL_BUILD:-build}/tests/tools/tcpgen}

if [ -z "${TL_KSTATES_INNER:-}" ]; then
    [ "$(id -u)" = 0 ] || skip "needs root (network namespace and tracefs)"
    [ -n "${TCPLENS:-}" ] && [ -x "$TCPLENS" ] || skip "no tcplens binary (\$TCPLENS='${TCPLENS:-}')"
    [ -x "$TCPGEN" ] || skip "no tcpgen helper at $TCPGEN (make all builds it)"
    for tool in tcpdump ss unshare python3; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
    done
    TCPGEN=$(cd "$(dirname "$TCPGEN")" && pwd)/$(basename "$TCPGEN")
    export TCPGEN
    TL_KSTATES_INNER=1 exec unshare --mount --net --propagation private sh "$0" "$@"
fi

# ---- inside the private namespaces -------------------------------------
TR=/sys/kernel/tracing
if [ ! -d "$TR/instances" ]; then
    mount -t tracefs nodev "$TR" 2>/dev/null || skip "tracefs cannot be mounted"
fi
EV=events/sock/inet_sock_set_state
[ -d "$TR/$EV" ] || skip "kernel has no sock:inet_sock_set_state tracepoint"
ip link set lo up || skip "cannot bring up loopback in the namespace"

WORK=$(mktemp -d /tmp/tl_kstates.XXXXXX)
INST=$TR/instances/tl_kstates_$$
mkdir "$INST" || skip "cannot create a tracefs instance"
cleanup() {
    [ -n "${TDPID:-}" ] && kill "$TDPID" 2>/dev/null
    echo 0 > "$INST/$EV/enable" 2>/dev/null
    rmdir "$INST" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# A private address keeps other namespaces' traffic (the tracepoint is
# global) out of the comparison.
ADDR=127.$(( ($$ / 250) % 250 + 1 )).$(( $$ % 250 + 1 )).1
BASE=$(( 20000 + ($$ % 2000) * 10 ))

fail=0
i=0
# scenario  lifecycle event tcplens must report (- = none checked)
for line in "normal -" "fin3 close_3way" "fin4 close_4way" "rst rst_abort" \
            "close-then-send rst_closed_socket" "unread rst_unread_data" \
            "shutdown half_close" "refused refused"; do
    set -- $line
    sc=$1; want=$2
    [ "$want" = - ] && want=""
    port=$((BASE + i)); i=$((i + 1))
    pcap=$WORK/$sc.pcap

    echo "sport == $port || dport == $port" > "$INST/$EV/filter"
    echo > "$INST/trace"
    echo 1 > "$INST/$EV/enable"

    tcpdump -Z root -i lo -U --immediate-mode -w "$pcap" "tcp port $port" 2>"$WORK/$sc.tcpdump" &
    TDPID=$!
    n=0
    until grep -q "listening on" "$WORK/$sc.tcpdump" 2>/dev/null; do
        n=$((n + 1))
        [ $n -gt 50 ] && { echo "$sc: tcpdump did not start"; cat "$WORK/$sc.tcpdump"; exit 1; }
        sleep 0.1
    done

    "$TCPGEN" -q "$sc" "$ADDR" "$port" > "$WORK/$sc.tcpgen" 2>&1
    rc=$?
    sleep 0.3                        # the last ACKs
    ss -tan > "$WORK/$sc.ss"
    echo 0 > "$INST/$EV/enable"
    cat "$INST/trace" > "$WORK/$sc.trace"
    kill -INT "$TDPID"; wait "$TDPID"; TDPID=

    if [ $rc -ne 0 ]; then
        echo "$sc: tcpgen saw unexpected socket results (exit $rc):"
        cat "$WORK/$sc.tcpgen"
        fail=1
        continue
    fi
    if ! "$TCPLENS" read "$pcap" --json > "$WORK/$sc.json" 2> "$WORK/$sc.err"; then
        echo "$sc: tcplens read failed:"; cat "$WORK/$sc.err"
        fail=1
        continue
    fi
    python3 "$HERE/compare_states.py" "$sc" "$ADDR" "$port" "$WORK/$sc.trace" \
        "$WORK/$sc.ss" "$WORK/$sc.json" $want || fail=1
done
exit $fail
