#!/bin/sh
# test_html.sh -- `--html FILE` (SPEC.md 3.5) on real kernel captures made by
# tests/golden/make-captures.sh, on a generated capture longer than the
# per-connection cap, and on the lab's own run: tests/cli/html_check.py
# checks each page against the same capture's --json records (well-formed,
# no fetches, one SVG per connection, handshake arrows and states where they
# change, one table row per TCP packet, every packet field in the embedded
# JSON, the click-to-decode script). Also: --html leaves stdout as it was,
# strings from the input are escaped, an unwritable FILE is an error, and
# chromium (only if installed) loads the page and has the SVG in its DOM.
set -u
T=${TCPLENS:-build/tcplens}
top=${TL_TOP:-$(pwd)}
[ -x "$T" ] || { echo "no tcplens binary at $T"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
work=$(mktemp -d /tmp/tl-html.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
caps="$work/caps"
bash "$top/tests/golden/make-captures.sh" "$caps" >"$work/make.log" 2>&1
rc=$?
[ $rc = 77 ] && { tail -n 1 "$work/make.log"; exit 77; }
[ $rc = 0 ] || { cat "$work/make.log"; echo "could not make captures"; exit 1; }
CHECK="python3 $top/tests/cli/html_check.py"

fails=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

# page NAME CAPTURE [checker options]: --html and --json of one capture, checked.
page() {
    name=$1 cap=$2
    shift 2
    "$T" read "$cap" --html "$work/$name.html" >/dev/null 2>"$work/$name.err" &&
        "$T" read "$cap" --json >"$work/$name.jsonl" 2>/dev/null
    if [ $? != 0 ]; then
        bad "$name: tcplens read --html exits 0"
        cat "$work/$name.err"
        return
    fi
    if $CHECK "$work/$name.html" "$work/$name.jsonl" "$@" >"$work/$name.check"; then
        ok "$name: html_check ($(grep -c '^ok' "$work/$name.check") checks)"
    else
        bad "$name: html_check"
        grep -v '^ok' "$work/$name.check"
    fi
}

N="$caps/lo-normal.pcap"
page lo-normal "$N" --handshake
page lo-bulk "$caps/lo-bulk.pcap" --handshake
page lo-multi "$caps/lo-multi.pcap" --handshake
page lo-rst "$caps/lo-rst.pcap"
page lo-refused "$caps/lo-refused.pcap"
page lo-snap96 "$caps/lo-snap96.pcap"
page veth "$caps/veth.pcap"
echo "# html: lo-bulk page $(wc -c <"$work/lo-bulk.html") bytes for $(grep -c '"type":"packet"' "$work/lo-bulk.jsonl") packets"

# --html adds a page; what goes to stdout stays as it was.
"$T" read "$N" >"$work/plain.txt"
"$T" read "$N" --html "$work/x.html" >"$work/tee.txt"
check "--html leaves the text output unchanged" "cmp -s '$work/plain.txt' '$work/tee.txt'"
# (uids are random per run: left out of the comparisons)
nouid() { sed -E 's/"uid":"[^"]*"//; s/<code>C[0-9A-Za-z]{17}<\/code>//g' "$1"; }
"$T" read "$N" --json | nouid /dev/stdin >"$work/plain.json"
"$T" read "$N" --json --html "$work/y.html" | nouid /dev/stdin >"$work/tee.json"
check "--html leaves the --json output unchanged" "cmp -s '$work/plain.json' '$work/tee.json'"
nouid "$work/x.html" >"$work/x.nouid"
nouid "$work/y.html" >"$work/y.nouid"
check "--html with --json writes the same page as with text" "cmp -s '$work/x.nouid' '$work/y.nouid'"

# A connection longer than the page draws (2000 packets): the rest is
# counted, not drawn; a malformed frame and payload with markup characters
# (shown with -x) on the way.
python3 - "$work/long.pcap" <<'EOF'
import struct, sys
def frame(src, dst, sp, dp, seq, ack, flags, payload=b'', doff=5):
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, doff << 4, flags, 512, 0, 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes(src), bytes(dst)) + tcp
    return b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + ip
C, S = (10, 0, 0, 1), (10, 0, 0, 2)
a, b = 1000, 5000
fr = [frame(C, S, 40000, 80, a, 0, 0x02), frame(S, C, 80, 40000, b, a + 1, 0x12)]
a += 1; b += 1
fr.append(frame(C, S, 40000, 80, a, b, 0x10))
for i in range(2600):
    fr.append(frame(C, S, 40000, 80, a, b, 0x18, b'</script><b>&"\'' * 8)); a += 120
    if i % 2: fr.append(frame(S, C, 80, 40000, b, a, 0x10))
fr += [frame(C, S, 40000, 80, a, b, 0x11), frame(S, C, 80, 40000, b, a + 1, 0x11),
       frame(C, S, 40000, 80, a + 1, b + 1, 0x10)]
fr.insert(5, frame(C, S, 40000, 80, 7, 7, 0x10, doff=3))   # data offset 3: malformed
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, d in enumerate(fr):
        f.write(struct.pack('<IIII', 1700000000 + i // 1000, (i % 1000) * 1000, len(d), len(d)) + d)
EOF
"$T" read "$work/long.pcap" -x --html "$work/long.html" >/dev/null 2>&1
"$T" read "$work/long.pcap" --json >"$work/long.jsonl" 2>/dev/null
if $CHECK "$work/long.html" "$work/long.jsonl" >"$work/long.check"; then
    ok "long connection: html_check ($(grep -c '^ok' "$work/long.check") checks)"
else
    bad "long connection: html_check"
    grep -v '^ok' "$work/long.check"
fi
check "long connection: 2000 rows drawn, the other 1906 packets counted" \
    "grep -q '1906 more packets not drawn' '$work/long.html'"
check "long connection: the malformed frame is listed with its reason" \
    "grep -q 'tcp_data_offset' '$work/long.html'"
check "-x payload is in the decode data, its '<' escaped" \
    "grep -q '\"payload\":\"3c 2f 73 63' '$work/long.html' && grep -q '\\\\u003c/script>' '$work/long.html'"

# More connections than the page draws (1000): the rest are counted.
python3 - "$work/many.pcap" <<'EOF'
import struct, sys
def frame(src, dst, sp, dp, seq, ack, flags):
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 5 << 4, flags, 512, 0, 0)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 1, 0, 64, 6, 0, bytes(src), bytes(dst)) + tcp
    return b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + ip
fr = []
for i in range(1200):
    C, S = (10, 0, i // 250, i % 250 + 1), (10, 1, 0, 1)
    fr += [frame(C, S, 40000, 80, 100, 0, 0x02), frame(S, C, 80, 40000, 500, 101, 0x12),
           frame(C, S, 40000, 80, 101, 501, 0x10), frame(C, S, 40000, 80, 101, 501, 0x04)]
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, d in enumerate(fr):
        f.write(struct.pack('<IIII', 1700000000 + i // 1000, (i % 1000) * 1000, len(d), len(d)) + d)
EOF
"$T" read "$work/many.pcap" --html "$work/many.html" >/dev/null 2>&1
svgs=$(grep -c '<svg' "$work/many.html")
links=$(grep -c '<a href="#s' "$work/many.html")
check "1200 connections: 1000 drawn and indexed, 200 (800 packets) counted as not drawn" \
    "[ $svgs = 1000 ] && [ $links = 1000 ] && grep -q '200 more connections (800 packets) not drawn' '$work/many.html'"

# Strings from the input (here a file name in an error record) are escaped.
weird="$work/a<b>&\"q'.pcap"
head -c 1000 "$N" >"$weird"
"$T" read "$weird" --html "$work/esc.html" >/dev/null 2>&1
check "a file name with markup characters is escaped in the page" \
    "grep -qF 'a&lt;b&gt;&amp;&quot;q&#39;.pcap' '$work/esc.html' && ! grep -qF 'a<b>' '$work/esc.html'"

# An --html FILE that cannot be written is an error before anything runs.
"$T" read "$N" --html "$work/no/such/dir/x.html" >"$work/nodir.out" 2>"$work/nodir.err"
rc=$?
check "--html into a missing directory: exit 1, the file named, no output" \
    "[ $rc = 1 ] && grep -q 'no/such/dir/x.html' '$work/nodir.err' && [ ! -s '$work/nodir.out' ]"

# The lab: its capture read back, and its own --html page (same run as its --json).
labdir="$work/lab"
if timeout 120 "$T" lab handshake -w "$labdir" --html "$work/lab.html" --json >"$work/lab.jsonl" 2>"$work/lab.err"; then
    page lab-pcap "$labdir/handshake.pcap" --handshake
    if $CHECK "$work/lab.html" "$work/lab.jsonl" --handshake --ignore scenario,wire >"$work/lab.check"; then
        ok "lab --html: html_check ($(grep -c '^ok' "$work/lab.check") checks)"
    else
        bad "lab --html: html_check"
        grep -v '^ok' "$work/lab.check"
    fi
else
    echo "# html: lab not run here ($(tail -n 1 "$work/lab.err"))"
fi

# A browser, only if one is installed.
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$browser" ]; then
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --dump-dom "file://$work/lo-normal.html" \
        >"$work/dom.html" 2>/dev/null
    check "chromium loads the page: the DOM has the ladder SVG and the decode panel" \
        "grep -q '<svg' '$work/dom.html' && grep -q 'class=\"decode\"' '$work/dom.html'"
else
    echo "# html: no chromium here, page not loaded in a browser"
fi

[ $fails = 0 ] || { echo "$fails failed"; exit 1; }
echo "all html checks passed"
