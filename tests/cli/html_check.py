#!/usr/bin/env python3
"""html_check.py -- validates a `tcplens read --html` page against the same
capture's `tcplens read --json` records (python3 stdlib only).

usage: html_check.py PAGE.html RECORDS.jsonl [--handshake] [--max-pkts N] [--ignore KEY,...]

Checks, each printed as "ok: ..." or "FAIL: ...":
  * well-formed: every element is closed in order (html.parser), nothing left open
  * self-contained: no src/href/xlink:href/url() pointing at http(s):// or //host,
    no <link>, no <iframe>/<img>/<object> fetching anything
  * no "</" inside a <script> block except its own end tag
  * one section with exactly one <svg> per connection record
  * every state change of the JSON (endpoint, new state) is written in that
    connection's SVG on the endpoint's side, at the packet that caused it
  * --handshake: the first three arrows are S / S. / . and the states
    SYN-SENT LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 TIME-WAIT appear
  * packet table rows == JSON packet records (per connection and in total),
    row numbers equal the packets' numbers
  * every embedded JSON block parses; every packet record's fields are in it
    with the same values
  * the connection index (when there are 2+ connections) links to each section
  * if node is installed: the page's script run against a minimal DOM stub
    fills the decode panel when a packet is clicked
Exit 0 when all pass, 1 otherwise.
"""
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], []

    def cls(self):
        return (self.attrs.get("class") or "").split()

    def all_text(self):
        out = list(self.text)
        for c in self.children:
            out.append(c.all_text())
        return "".join(out)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find(self, tag=None, cls=None):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.cls())]


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#doc", [])
        self.cur = self.root
        self.errors = []

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.cur.tag != tag:
            line, col = self.getpos()
            self.errors.append(f"</{tag}> at {line}:{col} closes <{self.cur.tag}>")
            # recover: pop to the matching element if any
            n = self.cur
            while n is not None and n.tag != tag:
                n = n.parent
            if n is None:
                return
            self.cur = n
        self.cur = self.cur.parent

    def handle_data(self, data):
        self.cur.text.append(data)


fails = 0


def check(name, cond, detail=""):
    global fails
    if cond:
        print("ok:", name)
    else:
        fails += 1
        print("FAIL:", name, ("-- " + detail) if detail else "")


def fetches(root, raw):
    bad = []
    for n in root.walk():
        for k, v in n.attrs.items():
            if k in ("src", "href", "xlink:href", "action", "data", "poster", "srcset") and v:
                if re.match(r"\s*(https?:)?//", v, re.I):
                    bad.append(f"<{n.tag} {k}={v}>")
        if n.tag in ("link", "iframe", "object", "embed", "base"):
            bad.append(f"<{n.tag}>")
    for m in re.finditer(r"url\(\s*['\"]?\s*(https?:)?//", raw, re.I):
        bad.append(m.group(0))
    if re.search(r"@import", raw):
        bad.append("@import")
    return bad


def svg_pk_groups(svg):
    return [g for g in svg.find("g") if "pk" in g.cls()]


def state_texts(svg, side):
    """{packet number: text} of the state labels written on one side."""
    out = []
    for t in svg.find("text"):
        c = t.cls()
        if "st" in c and side in c:
            out.append(t)
    return out


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    page, recs_path = args[0], args[1]
    handshake = "--handshake" in args
    max_pkts = 2000
    ignore = {"type"}
    if "--ignore" in args:   # keys the page need not carry (the lab's "scenario", "wire")
        ignore |= set(args[args.index("--ignore") + 1].split(","))
    if "--max-pkts" in args:
        max_pkts = int(args[args.index("--max-pkts") + 1])
    raw = open(page, encoding="utf-8").read()
    recs = [json.loads(l) for l in open(recs_path) if l.strip()]
    pkts = [r for r in recs if r["type"] == "packet"]
    conns = [r for r in recs if r["type"] == "conn"]
    states = [r for r in recs if r["type"] == "state"]

    tb = TreeBuilder()
    tb.feed(raw)
    tb.close()
    check("page is well-formed (every element closed in order)", not tb.errors and tb.cur is tb.root,
          "; ".join(tb.errors[:5]) or f"<{tb.cur.tag}> left open")
    root = tb.root
    check("page starts with <!DOCTYPE html> and has <html>, <head>, <body>",
          raw.lstrip().lower().startswith("<!doctype html>") and root.find("html") and root.find("head")
          and root.find("body"))
    bad = fetches(root, raw)
    check("no network fetches (src/href/url to http(s) or //host, link, iframe)", not bad, ", ".join(bad[:5]))
    scripts_ok = all(body.count("</") == 0 for body in re.findall(r"<script[^>]*>(.*?)</script>", raw, re.S))
    check('no "</" inside any <script> block', scripts_ok)

    sections = {}
    for s in root.find("section", "conn"):
        data = [sc for sc in s.find("script") if sc.attrs.get("type") == "application/json"]
        sections[s.attrs.get("id")] = (s, data)
    data_by_conn = {}
    parse_ok = True
    for sid, (s, data) in sections.items():
        if len(data) != 1 or data[0].attrs.get("id") != f"{sid}-data":
            parse_ok = False
            continue
        try:
            d = json.loads(data[0].all_text())
        except ValueError as e:
            parse_ok = False
            print("  JSON error in", sid, e)
            continue
        data_by_conn.setdefault(d.get("conn"), []).append((s, d))
    check("every section has one JSON block that parses", parse_ok and len(sections) > 0)

    # One section with one SVG per connection record.
    per_conn_ok, detail = True, []
    for c in conns:
        got = data_by_conn.get(c["conn"], [])
        if len(got) != 1 or len(got[0][0].find("svg")) != 1:
            per_conn_ok = False
            detail.append(f"conn {c['conn']}: {len(got)} sections")
    svgs = len(root.find("svg"))
    check(f"one section with one SVG per connection ({len(conns)} connections, {svgs} SVGs)",
          per_conn_ok and svgs == len(conns), ", ".join(detail[:5]))

    # State changes written on the right side of the right arrow.
    miss = []
    for c in conns:
        got = data_by_conn.get(c["conn"])
        if not got:
            continue
        s, d = got[0]
        svg = s.find("svg")[0]
        index_of = {p["n"]: i for i, p in enumerate(d["pkts"])}
        groups = {g.attrs.get("data-i"): g for g in svg_pk_groups(svg)}
        labels = {"client": state_texts(svg, "cs"), "server": state_texts(svg, "ss")}
        for st in (x for x in states if x["conn"] == c["conn"]):
            i = index_of.get(st["n"])
            if i is None:
                continue   # beyond the drawn packets
            g = groups.get(str(i))
            # the label is the text element following the packet's group,
            # before the next group, on the endpoint's side
            kids = svg.children
            pos = kids.index(g) if g in kids else -1
            found = False
            for k in kids[pos + 1:]:
                if k.tag == "g":
                    break
                side = "cs" if st["endpoint"] == "client" else "ss"
                if k.tag == "text" and side in k.cls() and st["to"] in k.all_text():
                    found = True
            if pos < 0 or not found:
                miss.append(f"conn {c['conn']} packet {st['n']} {st['endpoint']} {st['to']}")
    check("every state change is written on its endpoint's side at its packet", not miss, "; ".join(miss[:5]))

    if handshake:
        hs_ok, why = True, []
        want = {"SYN-SENT", "LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "TIME-WAIT"}
        for c in conns:
            if c.get("opened") != "handshake":
                continue
            s, d = data_by_conn[c["conn"]][0]
            svg = s.find("svg")[0]
            arrows = [" ".join(t.all_text() for t in g.find("text") if not t.cls())
                      for g in svg_pk_groups(svg)]
            first = [a.split(" ")[0] for a in arrows[:3]]
            if first != ["S", "S.", "."]:
                hs_ok = False
                why.append(f"conn {c['conn']} arrows {first}")
            text = " ".join(t.all_text() for t in svg.find("text") if "st" in t.cls())
            missing = [w for w in want if w not in text]
            if c.get("closed") in ("close_3way", "close_4way") and missing:
                hs_ok = False
                why.append(f"conn {c['conn']} lacks {missing}")
            if not all(re.search(r"seq=\d+", a) and "len=" in a for a in arrows):
                hs_ok = False
                why.append("an arrow lacks seq/len")
        check("handshake arrows S / S. / . and the states SYN-SENT..TIME-WAIT in the SVG", hs_ok, "; ".join(why))

    # Packet table rows.
    rows = [tr for t in root.find("table", "pkts") for tr in t.find("tr") if "data-i" in tr.attrs]
    total_more = 0
    for para in root.find("p", "more"):
        m = re.match(r"(\d+) more packets not drawn", para.all_text())
        if m:
            total_more += int(m.group(1))
    over_cap = any(sum(1 for p in pkts if p["conn"] == c["conn"]) > max_pkts for c in conns)
    check(f"packet table: {len(rows)} rows + {total_more} said not drawn == {len(pkts)} TCP packets",
          len(rows) + total_more == len(pkts) and (over_cap or total_more == 0))
    numbers_ok = True
    for c in conns:
        got = data_by_conn.get(c["conn"])
        if not got:
            continue
        s, d = got[0]
        want_n = [p["n"] for p in pkts if p["conn"] == c["conn"]][:max_pkts]
        have_n = [int(tr.find("td")[0].all_text()) for tr in s.find("tr") if "data-i" in tr.attrs]
        if want_n != have_n:
            numbers_ok = False
    check("each connection's rows are its packets, in order", numbers_ok)

    # Embedded data: every field of every packet record, same values.
    by_n = {}
    for lst in data_by_conn.values():
        for _, d in lst:
            for p in d["pkts"]:
                by_n[p["n"]] = p
    diff = []
    for p in pkts:
        h = by_n.get(p["n"])
        if h is None:
            continue
        for k, v in p.items():
            if k in ignore:
                continue
            if k not in h:
                diff.append(f"packet {p['n']} lacks {k}")
            elif h[k] != v:
                diff.append(f"packet {p['n']} {k}: {h[k]!r} != {v!r}")
    covered = sum(1 for p in pkts if p["n"] in by_n)
    check(f"embedded JSON has every field of every drawn packet ({covered} packets)",
          not diff and (covered == len(pkts) or over_cap), "; ".join(diff[:5]))

    if len(conns) >= 2:
        nav = root.find("nav", "index")
        links = [a.attrs.get("href", "") for a in nav[0].find("a")] if nav else []
        ids = {f"#{sid}" for sid in sections}
        check("connection index lists every connection with a link to its section",
              len(nav) == 1 and len(links) == len(conns) and all(l in ids for l in links),
              f"{len(links)} links for {len(conns)} connections")
        idx_text = nav[0].all_text() if nav else ""
        check("index shows conn_state and history", all(c["history"] in idx_text for c in conns)
              and all(c["conn_state"] in idx_text for c in conns))

    node = shutil.which("node")
    if node and conns:
        js = re.findall(r"<script>\n(.*?)</script>", raw, re.S)
        sid, d = None, None
        for k, (s, dd) in sections.items():
            if dd and dd[0].all_text() and json.loads(dd[0].all_text())["pkts"]:
                sid, d = k, dd[0].all_text()
                break
        if js and sid:
            r = subprocess.run([node, "-e", DOM_STUB], input=json.dumps([js[0], sid, d]), capture_output=True, text=True)
            check("clicking packet 0 fills the decode panel (node, DOM stub)", r.returncode == 0,
                  (r.stdout + r.stderr).strip()[-300:])
    return 1 if fails else 0


# A minimal DOM: just what the page's script touches. Clicks the first
# packet of the section given on stdin and prints the decode panel's text.
DOM_STUB = r"""
const [js, sid, data] = JSON.parse(require('fs').readFileSync(0, 'utf8'));
function El(tag){ this.tagName=tag; this.children=[]; this._text=''; this.className='';
  this.classList={ s:new Set(), add(c){this.s.add(c)}, remove(c){this.s.delete(c)} }; }
El.prototype.appendChild=function(c){ this.children.push(c); return c; };
Object.defineProperty(El.prototype,'textContent',{ get(){ return this._text + this.children.map(c=>c.textContent).join(' '); },
  set(v){ this._text=String(v); this.children=[]; } });
Object.defineProperty(El.prototype,'firstChild',{ get(){ return this.children[0]||null; } });
const box=new El('aside'); const marked=new El('tr');
const section={ id:sid, querySelector(q){ return q==='.decode'?box:null; },
  querySelectorAll(q){ return q==='.sel'?[]:[marked]; } };
const dataEl={ textContent:data };
const target={ getAttribute(a){ return '0'; }, closest(q){ return q==='[data-i]'?target:section; } };
const listeners={};
global.document={ getElementById(id){ return id===sid+'-data'?dataEl:null; },
  createElement(t){ return new El(t); }, createTextNode(t){ const e=new El('#text'); e._text=t; return e; },
  addEventListener(k,f){ listeners[k]=f; } };
eval(js);
listeners.click({ target:{ closest(q){ return target.closest(q); } } });
const text=box.textContent, p=JSON.parse(data).pkts[0];
const need=['Packet '+p.n, String(p.seq), p.src, 'Explanation'];
const lack=need.filter(w=>!text.includes(w));
if(lack.length||!marked.classList.s.has('sel')){ console.log('decode panel lacks', lack, text.slice(0,200)); process.exit(1); }
"""

if __name__ == "__main__":
    sys.exit(main())
