#!/usr/bin/env python3
"""bench_expect.py -- compare tcplens's JSON connection records with what
bench/gen said it generated (its -e summary). Prints each count side by side;
exit 1 on any difference.

One count is adjusted: in a simultaneous open each side's SYN-ACK repeats
the sequence number of its own SYN, and Wireshark's analysis (which tcplens
follows, tshark agrees) marks both as retransmissions; the generator counts
only the retransmissions it made."""
import collections
import json
import sys


def main():
    expect_path, json_path = sys.argv[1], sys.argv[2]
    want = collections.Counter()
    for line in open(expect_path):
        f = line.split()
        if f[0] in ("opened", "event"):
            want[(f[0], f[1])] = int(f[2])
        elif f[0] == "closed":
            want[("closed", f[1], f[2])] = int(f[3])
        elif f[0] in ("packets", "conns"):
            want[(f[0],)] = int(f[1])
    want[("event", "retransmission_any")] += 2 * want.get(("opened", "simultaneous_open"), 0)
    got = collections.Counter()
    for line in open(json_path):
        r = json.loads(line)
        t = r["type"]
        if t == "conn":
            got[("conns",)] += 1
            got[("opened", r["opened"] or "none")] += 1
            by = r.get("closed_by") or "-"
            if r["closed"] == "simultaneous_close" or r["closed"] == "syn_unanswered":
                by = "-"
            got[("closed", r["closed"], by)] += 1
            for e in r["events"]:
                got[("conn_event", e)] += 1
        elif t == "event":
            got[("event", r["event"])] += 1
            if r["event"] in ("retransmission", "fast_retransmission",
                              "spurious_retransmission"):
                got[("event", "retransmission_any")] += 1
        elif t == "stats":
            got[("packets",)] = r["packets"]
    bad = 0
    for k in sorted(set(want) | {k for k in got if k[0] in ("opened", "closed")}):
        w, g = want.get(k, 0), got.get(k, 0)
        ok = w == g
        bad += not ok
        print("%-45s want %8d got %8d%s" % (" ".join(k), w, g, "" if ok else "   <-- differs"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
