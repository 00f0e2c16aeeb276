#!/usr/bin/env python3
"""compare_tshark.py -- tshark as the oracle for tcplens's per-packet fields.

usage: compare_tshark.py [--tcplens BIN] [--json FILE] [--details N] [--quiet] CAPTURE

Runs tshark on CAPTURE (tcp.* fields, relative sequence numbers, sequence
analysis on, checksums at tshark's default) and `tcplens read --json CAPTURE`
(SPEC.md 3.2; BIN defaults to $TCPLENS, --json FILE takes already-written
JSON Lines instead), joins the two on the frame number and compares every TCP
packet field by field. Prints per-field counts, the first N mismatches in
detail, and a closing line

  # CAPTURE: P packets, F fields compared, M mismatches

Exit status: 0 no mismatch, 1 mismatches, 2 the tools could not be run.

What tshark cannot be asked is said, not hidden: frames excluded from the
join (TCP quoted inside ICMP errors, IP fragments) and fields not compared on
a packet (rel_ack without the ACK flag, where tshark prints the raw field) are
counted and printed with their reason. Everything else that differs is a
mismatch, including values tcplens leaves out where tshark has one.
"""
import ipaddress
import json
import os
import subprocess
import sys

FLAG_BITS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08,
             "ACK": 0x10, "URG": 0x20, "ECE": 0x40, "CWR": 0x80}

TSHARK_FIELDS = [
    "frame.number", "frame.protocols",
    "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
    "ip.flags.mf", "ip.frag_offset", "ipv6.fraghdr.offset",
    "tcp.srcport", "tcp.dstport", "tcp.flags",
    "tcp.seq_raw", "tcp.ack_raw", "tcp.seq", "tcp.ack",
    "tcp.window_size_value", "tcp.window_size", "tcp.window_size_scalefactor",
    "tcp.len",
    "tcp.options.mss_val", "tcp.options.wscale.shift",
    "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr",
    "tcp.option_kind", "tcp.options.sack_le", "tcp.options.sack_re",
]

# The fields compared, in the order they are reported.
COMPARED = ["src", "sport", "dst", "dport", "flags", "seq", "ack", "rel_seq",
            "rel_ack", "win", "win_scaled", "len", "opt.mss", "opt.wscale",
            "opt.ts_val", "opt.ts_ecr", "opt.sack_perm", "opt.sack"]


def run_tshark(capture):
    cmd = ["tshark", "-n", "-r", capture, "-Y", "tcp",
           "-o", "tcp.relative_sequence_numbers:TRUE",
           "-o", "tcp.analyze_sequence_numbers:TRUE",
           # Fragments are counted by tcplens, not reassembled (SPEC 1.1).
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
           "-E", "quote=n"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("tshark failed (%d): %s" % (p.returncode, p.stderr.strip()))
    rows = {}
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(TSHARK_FIELDS) - len(cols))
        row = dict(zip(TSHARK_FIELDS, cols))
        rows[int(row["frame.number"])] = row
    return rows


def run_tcplens(binary, capture, json_file):
    if json_file:
        with open(json_file) as f:
            text = f.read()
        rc = 0
    else:
        p = subprocess.run([binary, "read", "--json", capture], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        # 1 = input errors with partial results (SPEC 5): still compared.
        if p.returncode not in (0, 1):
            raise RuntimeError("%s read --json failed (%d): %s"
                               % (binary, p.returncode, p.stderr.strip()[-500:]))
        text, rc = p.stdout, p.returncode
    packets, dups = {}, []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise RuntimeError("tcplens line %d is not JSON (%s): %.120s" % (i, e, line))
        if rec.get("type") != "packet":
            continue
        n = rec.get("n")
        if n in packets:
            dups.append(n)
        packets[n] = rec
    return packets, dups, rc


def last(value):
    """The innermost occurrence (tunnels repeat ip.src etc.)."""
    return value.split(",")[-1] if value else ""


def as_int(value):
    return int(value, 0) if value != "" else None


def addr(value):
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return value


class Field:
    def __init__(self):
        self.compared = self.mismatched = 0
        self.skipped = {}


def expected_from_tshark(row):
    """tshark's values under tcplens's names, plus per-field skip reasons."""
    exp, skip = {}, {}
    exp["src"] = addr(last(row["ip.src"] or row["ipv6.src"]))
    exp["dst"] = addr(last(row["ip.dst"] or row["ipv6.dst"]))
    exp["sport"] = as_int(row["tcp.srcport"])
    exp["dport"] = as_int(row["tcp.dstport"])
    flags = as_int(row["tcp.flags"])
    exp["flags"] = flags & 0xff if flags is not None else None
    exp["seq"] = as_int(row["tcp.seq_raw"])
    exp["ack"] = as_int(row["tcp.ack_raw"])
    exp["rel_seq"] = as_int(row["tcp.seq"])
    if flags is not None and flags & FLAG_BITS["ACK"]:
        exp["rel_ack"] = as_int(row["tcp.ack"])
    else:
        skip["rel_ack"] = "no ACK flag: tshark prints the raw ack field as tcp.ack"
    exp["win"] = as_int(row["tcp.window_size_value"])
    exp["win_scaled"] = as_int(row["tcp.window_size"])
    exp["len"] = as_int(row["tcp.len"])

    def opt(field):
        v = row[field]
        if v == "":
            return None
        vals = [int(x, 0) for x in v.split(",")]
        return vals[0] if len(vals) == 1 else vals  # repeated option: a list
    exp["opt.mss"] = opt("tcp.options.mss_val")
    exp["opt.wscale"] = opt("tcp.options.wscale.shift")
    exp["opt.ts_val"] = opt("tcp.options.timestamp.tsval")
    exp["opt.ts_ecr"] = opt("tcp.options.timestamp.tsecr")
    kinds = [int(k, 0) for k in row["tcp.option_kind"].split(",") if k]
    exp["opt.sack_perm"] = True if 4 in kinds else None
    le = [int(x, 0) for x in row["tcp.options.sack_le"].split(",") if x]
    re_ = [int(x, 0) for x in row["tcp.options.sack_re"].split(",") if x]
    if le or re_:
        # tshark shows SACK edges relative to the peer's base, like tcp.ack;
        # tcplens writes them raw: the same offset as the ack converts them.
        if flags is not None and flags & FLAG_BITS["ACK"] and exp["rel_ack"] is not None:
            base = (exp["ack"] - exp["rel_ack"]) & 0xffffffff
            exp["opt.sack"] = [[(a + base) & 0xffffffff, (b + base) & 0xffffffff]
                               for a, b in zip(le, re_)]
        else:
            skip["opt.sack"] = "SACK without ACK flag: tshark's relative edges have no base"
    else:
        exp["opt.sack"] = None
    return exp, skip


def actual_from_tcplens(rec):
    o = rec.get("options") or {}
    flags = 0
    for name in rec.get("flags", []):
        flags |= FLAG_BITS.get(name, 0x100)
    return {
        "src": addr(rec.get("src", "")), "dst": addr(rec.get("dst", "")),
        "sport": rec.get("sport"), "dport": rec.get("dport"), "flags": flags,
        "seq": rec.get("seq"), "ack": rec.get("ack"),
        "rel_seq": rec.get("rel_seq"), "rel_ack": rec.get("rel_ack"),
        "win": rec.get("win"), "win_scaled": rec.get("win_scaled"),
        "len": rec.get("len"),
        "opt.mss": o.get("mss"), "opt.wscale": o.get("wscale"),
        "opt.ts_val": o.get("ts_val"), "opt.ts_ecr": o.get("ts_ecr"),
        "opt.sack_perm": o.get("sack_perm"), "opt.sack": o.get("sack"),
    }


def excluded_reason(row):
    protos = row["frame.protocols"].split(":")
    tcp_at = protos.index("tcp") if "tcp" in protos else len(protos)
    if any(p in ("icmp", "icmpv6") for p in protos[:tcp_at]):
        return "TCP header quoted inside an ICMP error (not a segment)"
    if row["ip.flags.mf"].split(",")[-1:] == ["1"] or \
            any(x not in ("", "0") for x in row["ip.frag_offset"].split(",")) or \
            row["ipv6.fraghdr.offset"] != "":
        return "IP fragment (tcplens counts fragments, SPEC 1.1)"
    return None


def show(v):
    if v is None:
        return "(absent)"
    if isinstance(v, int) and not isinstance(v, bool) and v > 0xff:
        return "%d" % v
    return str(v)


def compare(capture, tcplens, json_file, details, quiet):
    rows = run_tshark(capture)
    packets, dups, rc = run_tcplens(tcplens, capture, json_file)
    n_records = len(packets) + len(dups)
    fields = {name: Field() for name in COMPARED}
    excluded = {}
    problems = []          # (frame, field, tshark, tcplens, note)
    missing, compared_pkts, flags_hi = [], 0, 0
    for n in sorted(rows):
        row = rows[n]
        reason = excluded_reason(row)
        if reason:
            excluded[reason] = excluded.get(reason, 0) + 1
            packets.pop(n, None)
            continue
        rec = packets.pop(n, None)
        if rec is None:
            missing.append(n)
            continue
        compared_pkts += 1
        exp, skip = expected_from_tshark(row)
        act = actual_from_tcplens(rec)
        if (as_int(row["tcp.flags"]) or 0) & ~0xff:
            flags_hi += 1
        for name in COMPARED:
            fld = fields[name]
            if name in skip:
                fld.skipped[skip[name]] = fld.skipped.get(skip[name], 0) + 1
                continue
            fld.compared += 1
            if exp[name] != act[name]:
                fld.mismatched += 1
                note = ""
                if name == "win_scaled" and act[name] is None:
                    note = "tshark scale factor %s" % (row["tcp.window_size_scalefactor"] or "n/a (SYN)")
                problems.append((n, name, show(exp[name]), show(act[name]), note))
    extra = sorted(k for k in packets if k is not None)

    total_fields = sum(f.compared for f in fields.values())
    total_bad = sum(f.mismatched for f in fields.values()) + len(missing) + len(extra) + len(dups)
    if not quiet:
        print("== %s: tshark %d TCP frames, tcplens %d packet records (exit %d)"
              % (capture, len(rows), n_records, rc))
        print("%-14s %9s %10s  %s" % ("field", "compared", "mismatched", "not compared"))
        for name in COMPARED:
            f = fields[name]
            sk = "; ".join("%d: %s" % (c, r) for r, c in f.skipped.items())
            print("%-14s %9d %10d  %s" % (name, f.compared, f.mismatched, sk))
        for reason, c in sorted(excluded.items()):
            print("excluded from the join: %d frames: %s" % (c, reason))
        if flags_hi:
            print("note: %d packets have the AE/NS or reserved flag bits set; "
                  "only the 8 flags of SPEC 3.2 are compared" % flags_hi)
        if missing:
            print("MISSING: %d TCP frames tshark decodes have no tcplens packet record: %s"
                  % (len(missing), " ".join(map(str, missing[:20]))))
        if extra:
            print("EXTRA: %d tcplens packet records are not TCP frames to tshark: %s"
                  % (len(extra), " ".join(map(str, extra[:20]))))
        if dups:
            print("DUPLICATE: packet numbers written twice by tcplens: %s"
                  % " ".join(map(str, dups[:20])))
        for n, name, t, l, note in problems[:details]:
            print("MISMATCH frame %d %s: tshark %s, tcplens %s%s"
                  % (n, name, t, l, " (%s)" % note if note else ""))
        if len(problems) > details:
            print("... %d more mismatches" % (len(problems) - details))
    print("# %s: %d packets, %d fields compared, %d mismatches"
          % (os.path.basename(capture), compared_pkts, total_fields, total_bad))
    return compared_pkts, total_fields, total_bad


def main(argv):
    tcplens = os.environ.get("TCPLENS", "")
    json_file, details, quiet, capture = None, 20, False, None
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--tcplens" and args:
            tcplens = args.pop(0)
        elif a == "--json" and args:
            json_file = args.pop(0)
        elif a == "--details" and args:
            details = int(args.pop(0))
        elif a == "--quiet":
            quiet = True
        elif a.startswith("-") or capture:
            print(__doc__, file=sys.stderr)
            return 2
        else:
            capture = a
    if not capture or (not json_file and not tcplens):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        _, _, bad = compare(capture, tcplens, json_file, details, quiet)
    except (RuntimeError, OSError) as e:
        print("compare_tshark: %s" % e)
        print("# %s: not compared: %s" % (os.path.basename(capture), str(e)[:200]))
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
