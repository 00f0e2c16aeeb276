#!/usr/bin/env python3
"""analysis_compare.py -- compare tcplens's per-packet "analysis" lists with
tshark's tcp.analysis.* fields, flag by flag.

usage: analysis_compare.py [--min PCT] [--show N] PCAP JSONL
  JSONL is `tcplens read PCAP --json` output ("-" = stdin). Prints, per flag,
  packets flagged by tshark, by tcplens, by both, and the agreement
  both / either (100% when neither flags anything), then the mismatching
  packet numbers. With --min, exits 1 when a flag's agreement is below PCT.
  The last line is "analysis-compare: FLAGS_OK/FLAGS" for the caller.

tshark reports its "retransmission" expert item also on fast and spurious
retransmissions; tcplens gives each packet one kind, so tshark's
retransmission counts here only when neither of the other two is set.
"""
import json
import subprocess
import sys

# tcplens event name -> tshark field (tcp.analysis.<field>)
FLAGS = [
    ("retransmission", "retransmission"),
    ("fast_retransmission", "fast_retransmission"),
    ("spurious_retransmission", "spurious_retransmission"),
    ("out_of_order", "out_of_order"),
    ("previous_segment_not_captured", "lost_segment"),
    ("ack_unseen_segment", "ack_lost_segment"),
    ("dup_ack", "duplicate_ack"),
    ("zero_window", "zero_window"),
    ("window_full", "window_full"),
    ("window_update", "window_update"),
    ("zero_window_probe", "zero_window_probe"),
    ("keep_alive", "keep_alive"),
    ("keep_alive_ack", "keep_alive_ack"),
]
ALIASES = {"lost_segment": "previous_segment_not_captured"}


def tshark_flags(pcap):
    cmd = ["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "separator=/t",
           "-e", "frame.number", "-e", "tcp.analysis.flags"]
    for _, field in FLAGS:
        cmd += ["-e", "tcp.analysis." + field]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        cols = line.split("\t")
        if not cols[0].isdigit():
            continue
        cols += [""] * (len(FLAGS) + 2 - len(cols))
        got = {name for (name, _), val in zip(FLAGS, cols[2:]) if val.strip()}
        if "retransmission" in got and got & {"fast_retransmission", "spurious_retransmission"}:
            got.discard("retransmission")
        res[int(cols[0])] = got
    return res


def tcplens_flags(path):
    res = {}
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    with stream:
        for line in stream:
            line = line.strip()
            if not line.startswith("{"):
                continue
            rec = json.loads(line)
            if rec.get("type") != "packet":
                continue
            names = set()
            for item in rec.get("analysis", []):
                if isinstance(item, dict):
                    item = item.get("event") or item.get("name") or ""
                names.add(ALIASES.get(item, item))
            res[int(rec["n"])] = names
    return res


def main(argv):
    min_pct, show = None, 10
    while argv and argv[0].startswith("--"):
        if argv[0] == "--min":
            min_pct = float(argv[1])
        elif argv[0] == "--show":
            show = int(argv[1])
        argv = argv[2:]
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    ts, tl = tshark_flags(argv[0]), tcplens_flags(argv[1])
    frames = sorted(set(ts) | set(tl))
    ok = 0
    print("%-30s %7s %7s %7s %8s" % ("flag", "tshark", "tcplens", "both", "agree%"))
    for name, _ in FLAGS:
        a = {n for n in frames if name in ts.get(n, ())}
        b = {n for n in frames if name in tl.get(n, ())}
        either = a | b
        pct = 100.0 * len(a & b) / len(either) if either else 100.0
        passed = min_pct is None or pct >= min_pct
        ok += passed
        print("%-30s %7d %7d %7d %7.2f%s" % (name, len(a), len(b), len(a & b), pct,
                                           "" if passed else "  BELOW"))
        only_ts, only_tl = sorted(a - b), sorted(b - a)
        if only_ts:
            print("    only tshark:  %s%s" % (only_ts[:show], " ..." if len(only_ts) > show else ""))
        if only_tl:
            print("    only tcplens: %s%s" % (only_tl[:show], " ..." if len(only_tl) > show else ""))
    print("analysis-compare: %d/%d" % (ok, len(FLAGS)))
    return 0 if ok == len(FLAGS) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
