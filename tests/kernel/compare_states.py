#!/usr/bin/env python3
"""compare_states.py -- one scenario of test_kernel_states.sh: do the states
tcplens infers from the wire agree with the kernel's own?

    compare_states.py SCENARIO ADDR PORT TRACE SS_SNAPSHOT JSON [EXPECTED_EVENT]

TRACE is the text of a tracefs instance with sock:inet_sock_set_state
enabled; SS_SNAPSHOT is `ss -tan` taken after the scenario; JSON is
`tcplens read --json` of the capture. Prints '#' summary lines; exit 0 when
every endpoint's state sequence agrees, 1 when not.

Kernel facts the comparison accounts for (Linux):
  - connect() traces CLOSE -> SYN_SENT before the local port is bound
    (sport=0 in that line);
  - entering TIME-WAIT (and an orphaned FIN-WAIT-2) hands the socket to a
    timewait socket: the tracepoint shows -> CLOSE, `ss` shows the timewait
    socket's state. A final CLOSE is replaced by what ss still shows.
"""
import json
import re
import sys

KERNEL_NAMES = {
    "CLOSE": "CLOSED", "LISTEN": "LISTEN", "SYN_SENT": "SYN-SENT",
    "SYN_RECV": "SYN-RECEIVED", "NEW_SYN_RECV": "SYN-RECEIVED",
    "ESTABLISHED": "ESTABLISHED", "FIN_WAIT1": "FIN-WAIT-1",
    "FIN_WAIT2": "FIN-WAIT-2", "CLOSE_WAIT": "CLOSE-WAIT", "CLOSING": "CLOSING",
    "LAST_ACK": "LAST-ACK", "TIME_WAIT": "TIME-WAIT",
}
SS_NAMES = {"TIME-WAIT": "TIME-WAIT", "FIN-WAIT-2": "FIN-WAIT-2"}

LINE = re.compile(r"inet_sock_set_state: .*?protocol=IPPROTO_TCP sport=(\d+) dport=(\d+) "
                  r"saddr=(\S+) daddr=(\S+) .*?oldstate=TCP_(\w+) newstate=TCP_(\w+)")


def kernel_transitions(path, addr, port):
    """[(sport, dport, old, new)] of the scenario's sockets, listener excluded."""
    out = []
    with open(path) as f:
        for line in f:
            m = LINE.search(line)
            if not m:
                continue
            sport, dport, saddr, daddr, old, new = m.groups()
            sport, dport = int(sport), int(dport)
            if addr not in (saddr, daddr) or port not in (sport, dport) or dport == 0:
                continue
            out.append((sport, dport, KERNEL_NAMES.get(old, old), KERNEL_NAMES.get(new, new)))
    return out


def ss_states(path):
    """{(local_port, peer_port): state} of sockets ss still lists."""
    st = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 5 or parts[0] not in SS_NAMES:
                continue
            lp = int(parts[3].rsplit(":", 1)[1])
            pp = int(parts[4].rsplit(":", 1)[1])
            st[(lp, pp)] = SS_NAMES[parts[0]]
    return st


def kernel_sequence(trans, local, peer, ss, client_port_unbound):
    seq = []
    for sport, dport, old, new in trans:
        mine = (sport == local and dport == peer) or (client_port_unbound and sport == 0 and dport == peer)
        if mine:
            if not seq:
                seq.append(old)
            seq.append(new)
    if seq and seq[-1] == "CLOSED" and (local, peer) in ss:
        held = ss[(local, peer)]
        if len(seq) >= 2 and seq[-2] == held:
            seq.pop()
        else:
            seq[-1] = held
    return seq


def strip_start(seq):
    """Drop the states before the connection existed: our UNKNOWN, the kernel's CLOSE."""
    while seq and seq[0] in ("UNKNOWN", "CLOSED"):
        seq = seq[1:]
    return seq


def main():
    scenario, addr, port, trace, ssfile, jsonfile = sys.argv[1:7]
    want_event = sys.argv[7] if len(sys.argv) > 7 else ""
    port = int(port)
    recs = []
    with open(jsonfile) as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    conns = [r for r in recs if r.get("type") == "conn"]
    if len(conns) != 1:
        print(f"{scenario}: expected one connection in tcplens output, got {len(conns)}")
        return 1
    conn = conns[0]
    cport = conn["orig_p"] if conn["resp_p"] == port else conn["resp_p"]
    ours = {"client": [], "server": []}
    for r in recs:
        if r.get("type") == "state" and r.get("conn") == conn["conn"]:
            s = ours[r["endpoint"]]
            if not s:
                s.append(r["from"])
            s.append(r["to"])
    events = [r["event"] for r in recs if r.get("type") == "event"]

    trans = kernel_transitions(trace, addr, port)
    ss = ss_states(ssfile)
    kern = {
        "client": kernel_sequence(trans, cport, port, ss, True),
        "server": kernel_sequence(trans, port, cport, ss, False),
    }
    ok = True
    for ep in ("client", "server"):
        k, o = strip_start(kern[ep]), strip_start(ours[ep])
        if not kern[ep]:
            print(f"# {scenario} {ep}: no kernel socket; tcplens says {' '.join(o) or '-'}")
            continue
        if k == o:
            print(f"# {scenario} {ep}: agree: {' '.join(k)}")
        else:
            ok = False
            print(f"{scenario} {ep}: DISAGREE\n  kernel:  {' '.join(k)}\n  tcplens: {' '.join(o)}")
    if want_event:
        if want_event in events:
            print(f"# {scenario}: event {want_event} reported")
        else:
            ok = False
            print(f"{scenario}: expected event {want_event}, tcplens reported {events}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
