#!/usr/bin/env python3
"""compare_states.py -- one scenario of test_kernel_states.sh: do the states
tcplens infers from the wire agree with the kernel's own?

    compare_states.py [--event NAME]... [--conns N] [--expect CP:ENDPOINT=STATE]... \\
        LABEL ADDR PORT TRACE SS_SNAPSHOT CHECKPOINTS JSON

TRACE is the text of a tracefs instance with sock:inet_sock_set_state
enabled ('-' when the tracepoint is out of reach, e.g. not root: then only
the snapshots are compared); SS_SNAPSHOT is `ss -tan` taken after the
scenario; CHECKPOINTS holds the snapshots tcpgen took at its quiet moments,
each as a line '@ NAME TIME' (CLOCK_REALTIME, the clock of the capture's
timestamps) followed by `ss -tanH` ('-' or an empty file: none); JSON is
`tcplens read --json` of the capture. --conns N: the scenario makes N
connections on one 4-tuple (N > 1: port reuse); generation g of each
endpoint is compared with tcplens's connection g. --event: an event tcplens
must report. --expect: the state the kernel must show for ENDPOINT at
checkpoint CP (what the scenario is about, e.g. the orphaned FIN-WAIT-2 of a
killed server), so that the scenario cannot drift into another. Prints one '#' summary line per endpoint (and generation);
exit 0 when everything agrees, 1 when not.

Two comparisons, both per endpoint:
  - sequence (tracepoint): every transition the kernel made, in order, equals
    tcplens's "state" records for that endpoint;
  - snapshots (sock_diag via ss): at each checkpoint, and at the end, the
    state ss lists for the socket equals tcplens's state after the last
    packet captured before the snapshot; a socket ss does not list is CLOSED
    (closed sockets are unhashed, sock_diag cannot see them).

Kernel facts the comparison accounts for (Linux):
  - connect() traces CLOSE -> SYN_SENT before the local port is bound
    (sport=0 in that line) unless the socket was bound first;
  - the tracepoint's saddr/daddr are meaningless for AF_INET6 sockets: their
    addresses are saddrv6/daddrv6;
  - entering TIME-WAIT (and an orphaned FIN-WAIT-2) hands the socket to a
    timewait socket: the tracepoint shows -> CLOSE, `ss` shows the timewait
    socket's state. A final CLOSE is replaced by what ss still shows: the
    end snapshot for the last generation, the checkpoint 'connG' for
    generation G of a port-reuse scenario (a new SYN later kills the
    timewait socket without a trace line).
"""
import ipaddress
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
SS_NAMES = {
    "ESTAB": "ESTABLISHED", "SYN-SENT": "SYN-SENT", "SYN-RECV": "SYN-RECEIVED",
    "FIN-WAIT-1": "FIN-WAIT-1", "FIN-WAIT-2": "FIN-WAIT-2", "TIME-WAIT": "TIME-WAIT",
    "CLOSE-WAIT": "CLOSE-WAIT", "LAST-ACK": "LAST-ACK", "CLOSING": "CLOSING",
    "UNCONN": "CLOSED", "CLOSE": "CLOSED",
}
TIMEWAIT_STATES = ("TIME-WAIT", "FIN-WAIT-2")   # what a timewait socket can show

FIELD = re.compile(r"(\w+)=(\S+)")


def same_addr(a, b):
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def kernel_transitions(path, addr, port):
    """[(sport, dport, old, new)] of the scenario's sockets, listener excluded."""
    out = []
    with open(path) as f:
        for line in f:
            _, sep, rest = line.partition("inet_sock_set_state: ")
            if not sep:
                continue
            fl = dict(FIELD.findall(rest))
            if fl.get("protocol") != "IPPROTO_TCP":
                continue
            if fl.get("family") == "AF_INET6":
                saddr, daddr = fl.get("saddrv6", ""), fl.get("daddrv6", "")
            else:
                saddr, daddr = fl.get("saddr", ""), fl.get("daddr", "")
            sport, dport = int(fl["sport"]), int(fl["dport"])
            if not (same_addr(addr, saddr) or same_addr(addr, daddr)):
                continue
            if port not in (sport, dport) or dport == 0:
                continue
            old = fl["oldstate"].removeprefix("TCP_")
            new = fl["newstate"].removeprefix("TCP_")
            out.append((sport, dport, KERNEL_NAMES.get(old, old), KERNEL_NAMES.get(new, new)))
    return out


def parse_ss_lines(lines, addr):
    """{(local_port, peer_port): state} of ADDR's sockets in `ss -tan` lines."""
    st = {}
    for line in lines:
        parts = line.split()
        if len(parts) < 5 or parts[0] not in SS_NAMES:
            continue
        lh, _, lp = parts[3].rpartition(":")
        ph, _, pp = parts[4].rpartition(":")
        # the client's source may be another loopback address (127.0.0.1)
        if not pp.isdigit() or not any(same_addr(h.strip("[]").split("%")[0], addr)
                                       for h in (lh, ph)):
            continue
        st[(int(lp), int(pp))] = SS_NAMES[parts[0]]
    return st


def read_checkpoints(path, addr):
    """[(name, (t0, t1), snapshot)] in the order tcpgen took them: ss read
    the sockets at some moment between t0 and t1 ("@ NAME T0 [T1]")."""
    cps = []
    if path == "-":
        return cps
    cur = None
    with open(path) as f:
        for line in f:
            if line.startswith("@ "):
                words = line.split()
                t0 = float(words[2])
                t1 = float(words[3]) if len(words) > 3 else t0
                cur = (words[1], (t0, t1), [])
                cps.append(cur)
            elif cur is not None:
                cur[2].append(line)
    return [(n, t, parse_ss_lines(lines, addr)) for n, t, lines in cps]


def kernel_generations(trans, local, peer, is_client):
    """The endpoint's socket transitions, split where a new connection starts."""
    gens = []
    for sport, dport, old, new in trans:
        mine = (sport == local and dport == peer) or (is_client and sport == 0 and dport == peer)
        if not mine:
            continue
        starts = new == "SYN-SENT" if is_client else old == "LISTEN"
        if starts or not gens:
            gens.append([old])
        gens[-1].append(new)
    return gens


def resolve_timewait(seq, held):
    """A final CLOSE that is really a timewait socket ss still lists."""
    if seq and seq[-1] == "CLOSED" and held in TIMEWAIT_STATES:
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


def parse_args(argv):
    events, nconns, expects, pos = [], 1, [], []
    i = 0
    while i < len(argv):
        if argv[i] == "--expect":
            cp, _, rest = argv[i + 1].partition(":")
            ep, _, state = rest.partition("=")
            expects.append((cp, ep, state))
            i += 2
        elif argv[i] == "--event":
            events.append(argv[i + 1])
            i += 2
        elif argv[i] == "--conns":
            nconns = int(argv[i + 1])
            i += 2
        else:
            pos.append(argv[i])
            i += 1
    if len(pos) != 7:
        sys.exit(__doc__)
    return events, nconns, expects, pos


def main():
    want_events, nconns, expects, pos = parse_args(sys.argv[1:])
    label, addr, port, trace, ssfile, cpfile, jsonfile = pos
    port = int(port)
    recs = []
    with open(jsonfile) as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    conns = sorted((r for r in recs if r.get("type") == "conn"), key=lambda r: r["conn"])
    ok = True
    if len(conns) != nconns:
        print(f"{label}: expected {nconns} connection(s) in tcplens output, got {len(conns)}")
        return 1
    tuples = {(c["orig_h"], c["orig_p"], c["resp_h"], c["resp_p"]) for c in conns}
    if len(tuples) != 1:
        print(f"{label}: expected one 4-tuple, tcplens reports {sorted(tuples)}")
        return 1
    if nconns > 1:
        reused = ["port_reused" in c["events"] for c in conns]
        if reused == [False] + [True] * (nconns - 1):
            print(f"# {label}: {nconns} connections on one 4-tuple, port_reused on #2..#{nconns}")
        else:
            ok = False
            print(f"{label}: port_reused per connection {reused}, "
                  f"expected only on connections 2..{nconns}")
    cport = conns[0]["orig_p"] if conns[0]["resp_p"] == port else conns[0]["resp_p"]

    # tcplens: per generation and endpoint, the sequence and the timed states.
    ours, timed = [], []
    for c in conns:
        seqs, times = {"client": [], "server": []}, {"client": [], "server": []}
        for r in recs:
            if r.get("type") == "state" and r.get("conn") == c["conn"]:
                s = seqs[r["endpoint"]]
                if not s:
                    s.append(r["from"])
                s.append(r["to"])
                times[r["endpoint"]].append((r["ts"], r["to"]))
        ours.append(seqs)
        timed.append(times)

    cps = read_checkpoints(cpfile, addr)
    final_ss = parse_ss_lines(open(ssfile).readlines(), addr)
    cps.append(("end", (float("inf"), float("inf")), final_ss))
    tuple_of = {"client": (cport, port), "server": (port, cport)}

    kern = None
    if trace != "-":
        trans = kernel_transitions(trace, addr, port)
        kern = {ep: kernel_generations(trans, *tuple_of[ep], ep == "client")
                for ep in ("client", "server")}
        by_name = {n: s for n, _, s in cps}
        for ep in kern:
            for g, seq in enumerate(kern[ep]):
                snap = by_name.get(f"conn{g + 1}") if g + 1 < len(kern[ep]) else final_ss
                resolve_timewait(seq, (snap or {}).get(tuple_of[ep]))

    for g in range(nconns):
        for ep in ("client", "server"):
            name = f"{ep}#{g + 1}" if nconns > 1 else ep
            o = strip_start(ours[g][ep])
            # snapshots taken while this generation was the newest one
            snaps, snaps_ok = [], True
            for cpname, (t, t_end), snap in cps:
                gen = max([i for i, c in enumerate(conns) if c["ts"] <= t], default=-1)
                if gen != g:
                    continue
                before = [to for ts, to in timed[g][ep] if ts <= t]
                # ss read the socket at some moment of [t, t_end] (under load
                # that can be long): any state tcplens gave it then will do
                held = [before[-1] if before else "UNKNOWN"]
                held += [to for ts, to in timed[g][ep] if t < ts <= t_end]
                mine = held[-1] if len(held) == 1 else "/".join(held)
                theirs = snap.get(tuple_of[ep], "CLOSED")
                snaps.append(f"{cpname}={theirs}")
                if theirs not in held:
                    ok = snaps_ok = False
                    print(f"{label} {name}: DISAGREE at snapshot {cpname}: "
                          f"ss says {theirs}, tcplens says {mine}")
            snaptext = ", ".join(snaps)
            if kern is None:
                if snaps_ok:
                    print(f"# {label} {name}: agree (sock_diag snapshots only, no tracepoint): "
                          f"{snaptext}; tcplens: {' '.join(o)}")
                continue
            gens = kern[ep]
            if g >= len(gens):
                if snaps_ok:
                    print(f"# {label} {name}: no kernel socket; tcplens says "
                          f"{' '.join(o) or '-'}; snapshots {snaptext}")
                continue
            k = strip_start(gens[g])
            if k == o and snaps_ok:
                print(f"# {label} {name}: agree: {' '.join(k)} (snapshots {snaptext})")
            elif k != o:
                ok = False
                print(f"{label} {name}: DISAGREE\n  kernel:  {' '.join(k)}\n  tcplens: {' '.join(o)}")

    snaps_by_name = {n: snap for n, _, snap in cps}
    for cp, ep, state in expects:
        if cp not in snaps_by_name:
            ok = False
            print(f"{label}: tcpgen took no checkpoint {cp}")
            continue
        got = snaps_by_name[cp].get(tuple_of[ep], "CLOSED")
        if got == state:
            print(f"# {label}: at {cp} the kernel shows the {ep} in {state}, as the scenario means")
        else:
            ok = False
            print(f"{label}: at {cp} the kernel shows the {ep} in {got}, the scenario means {state}")

    extra = [ep for ep in (kern or {}) if len(kern[ep]) > nconns]
    if extra:
        ok = False
        print(f"{label}: the kernel made more connections than tcplens reports ({extra})")

    events = [r["event"] for r in recs if r.get("type") == "event"]
    for want in want_events:
        if want in events:
            print(f"# {label}: event {want} reported")
        else:
            ok = False
            print(f"{label}: expected event {want}, tcplens reported {events}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
