#!/bin/sh
# test_read_cli.sh -- `tcplens read` as a user meets it, on real captures made
# by tests/golden/make-captures.sh: every output mode (--zeek read by awk over
# its #fields line, --ladder, -q, --conns, -S, -tt, -x), stdin, several files
# as one timeline, filter numbering, and the error contract of SPEC section 5
# (exit 0/1/2, file/offset/packet named, partial results still printed).
set -u
T=${TCPLENS:-build/tcplens}
top=${TL_TOP:-$(pwd)}
[ -x "$T" ] || { echo "no tcplens binary at $T"; exit 77; }
work=$(mktemp -d /tmp/tl-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
caps="$work/caps"
bash "$top/tests/golden/make-captures.sh" "$caps" >"$work/make.log" 2>&1
rc=$?
[ $rc = 77 ] && { tail -n 1 "$work/make.log"; exit 77; }
[ $rc = 0 ] || { cat "$work/make.log"; echo "could not make captures"; exit 1; }

fails=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

N="$caps/lo-normal.pcap"     # normal close over 127.0.0.1:8000, then [::1]:8001
F4="$caps/lo-fin4.pcap"

# --zeek: a conn.log that zeek-cut-style tools read through its #fields line.
"$T" read "$N" --zeek >"$work/conn.log"
awk -F'\t' '
  /^#fields/ { for (i = 2; i <= NF; i++) col[$i] = i - 1; nf = NF - 1; next }
  /^#/ { next }
  { if (NF != nf) { print "row has " NF " columns, #fields has " nf; bad = 1 }
    printf "%s %s %s %s\n", $col["id.resp_p"], $col["conn_state"], $col["history"], $col["orig_pkts"] }
  END { exit bad }' "$work/conn.log" >"$work/conn.cut"
check "--zeek rows have as many columns as #fields" "[ $? = 0 ]"
check "--zeek: IPv4 normal close is SF with a full history" "grep -qE '^8000 SF ShAD[aA]*F' '$work/conn.cut'"
check "--zeek: IPv6 row too" "grep -qE '^8001 SF ' '$work/conn.cut'"
check "--zeek has #types and #close lines" "grep -q '^#types' '$work/conn.log' && grep -q '^#close' '$work/conn.log'"

# --ladder: the handshake drawn with both endpoints' states.
"$T" read "$N" --ladder 'port 8000' >"$work/ladder.txt"
awk '/\|/ { print; if (++n == 3) exit }' "$work/ladder.txt" >"$work/ladder3"
check "--ladder row 1: SYN from client, SYN-SENT / LISTEN" \
    "sed -n 1p '$work/ladder3' | grep -qE 'SYN-SENT \|-+ S seq=0 .*>\| LISTEN'"
check "--ladder row 2: SYN-ACK from server, ESTABLISHED / SYN-RECEIVED" \
    "sed -n 2p '$work/ladder3' | grep -qE 'ESTABLISHED \|<-+ S\. seq=0 ack=1 .*\| SYN-RECEIVED'"
check "--ladder row 3: ACK, server ESTABLISHED, handshake" \
    "sed -n 3p '$work/ladder3' | grep -qE '\|-+ \. seq=1 ack=1 .*>\| ESTABLISHED +handshake'"
check "--ladder shows the final states" "grep -qE 'final +TIME-WAIT +CLOSED' '$work/ladder.txt'"

# -q: events only; --conns: the table only.
"$T" read "$F4" -q >"$work/q.txt"
check "-q prints events and no packet lines" \
    "grep -q 'close_4way' '$work/q.txt' && ! grep -q '\[S\]' '$work/q.txt'"
"$T" read "$N" --conns >"$work/conns.txt"
check "--conns prints one row per connection and no packets" \
    "[ \$(grep -cE '^#[0-9]' '$work/conns.txt') = 2 ] && ! grep -q '\[S\.\]' '$work/conns.txt'"

# -S raw sequence numbers, -tt epoch time, -x payload.
raw_isn=$("$T" read "$N" --json | awk -F'"seq":' '/"type":"packet"/ { split($2, a, ","); print a[1]; exit }')
check "-S shows the raw ISN" "'$T' read '$N' -S | head -n 1 | grep -q 'seq $raw_isn'"
check "-tt shows epoch seconds" "'$T' read '$N' -tt | head -n 1 | grep -qE '^ *1[0-9]{9}\.[0-9]{6} '"
check "-x shows the payload in hex and ASCII" "'$T' read '$N' -x | grep -q 'hello world'"

# Filter: packets keep their record numbers (every record counted).
first_v6=$("$T" read "$N" --json 'port 8001' | awk -F'"n":' '/"type":"packet"/ { split($2, a, ","); print a[1]; exit }')
check "a filter keeps record numbering (first IPv6 packet is #9)" "[ '$first_v6' = 9 ]"

# stdin and several files as one timeline.
"$T" read "$N" --json | grep '"type":"packet"' >"$work/file.json"
cat "$N" | "$T" read - --json | grep '"type":"packet"' >"$work/stdin.json"
check "stdin gives the same packet records as the file" "cmp -s '$work/file.json' '$work/stdin.json'"
"$T" read "$N" "$F4" --json >"$work/two.json"
check "two files: numbering continues (packet 17 exists, from the second file)" \
    "grep -q '\"type\":\"packet\",\"n\":17,' '$work/two.json'"
check "two files: four connections" "[ \$(grep -c '\"type\":\"conn\"' '$work/two.json') = 4 ]"

# Errors (SPEC 5): truncated last record is a warning; what came before is reported.
size=$(wc -c <"$N")
head -c $((size - 10)) "$N" >"$work/trunc.pcap"
"$T" read "$work/trunc.pcap" --json >"$work/trunc.json" 2>"$work/trunc.err"
check "truncated last record: exit 0" "[ $? = 0 ]"
check "truncated last record: warning names file, offset and packet" \
    "grep -qE 'warning: .*trunc.pcap: offset [0-9]+, packet 16' '$work/trunc.err'"
check "truncated last record: earlier packets and both connections still reported" \
    "[ \$(grep -c '\"type\":\"packet\"' '$work/trunc.json') = 15 ] && [ \$(grep -c '\"type\":\"conn\"' '$work/trunc.json') = 2 ]"
# An absurd record length in the middle: an error, not an allocation; exit 1.
python3 - "$N" "$work/absurd.pcap" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
off, n = 24, 0
while n < 4:  # find the 5th record header
    incl = struct.unpack_from('<I', d, off + 8)[0]
    off += 16 + incl
    n += 1
struct.pack_into('<I', d, off + 8, 0x7fffffff)
open(sys.argv[2], 'wb').write(d)
EOF
"$T" read "$work/absurd.pcap" --json >"$work/absurd.json" 2>"$work/absurd.err"
check "absurd record length: exit 1" "[ $? = 1 ]"
check "absurd record length: error record with file, offset and packet 5" \
    "grep -qE '\"type\":\"error\",\"file\":\"[^\"]*absurd.pcap\",\"offset\":[0-9]+,\"packet\":5,' '$work/absurd.json'"
check "absurd record length: the 4 packets before are reported" \
    "[ \$(grep -c '\"type\":\"packet\"' '$work/absurd.json') = 4 ]"
"$T" read "$work/missing.pcap" >/dev/null 2>"$work/missing.err"
check "missing file: exit 1, named" "[ $? = 1 ] && grep -q 'missing.pcap' '$work/missing.err'"
"$T" read "$N" 'port 80 and' >/dev/null 2>"$work/filter.err"
check "bad filter: exit 2, filter shown" "[ $? = 2 ] && grep -q \"port 80 and\" '$work/filter.err'"
# --conns and -q with --json: the same choice of records as the text view.
"$T" read "$N" --conns --json | grep -o '"type":"[a-z]*"' | sort -u | tr '\n' ' ' >"$work/cj.types"
check "--conns --json: conn and stats records only" \
    "[ \"\$(cat '$work/cj.types')\" = '\"type\":\"conn\" \"type\":\"stats\" ' ]"
"$T" read "$N" -q --json | grep -o '"type":"[a-z]*"' | sort -u | tr '\n' ' ' >"$work/qj.types"
check "-q --json: events, conn and stats records, no packets or states" \
    "grep -q event '$work/qj.types' && ! grep -q 'packet\|state' '$work/qj.types'"

# Output to a file or pipe goes out in large writes (glibc ignored the size
# given with a NULL buffer and wrote 4 KiB at a time); --line-buffered
# writes each line as it is done.
if command -v strace >/dev/null 2>&1; then
    strace -o "$work/w.trace" -e trace=write "$T" read "$N" "$N" "$N" --json >"$work/w.json"
    big=$(awk -F'= ' '/^write\(1,/ { if ($NF + 0 > m) m = $NF + 0 } END { print m + 0 }' "$work/w.trace")
    check "--json to a file: one write holds more than 4 KiB ($big bytes, output $(wc -c <"$work/w.json"))" \
        "[ \$(wc -c <'$work/w.json') -gt 8192 ] && [ $big -gt 8192 ]"
    strace -o "$work/l.trace" -s 65536 -e trace=write "$T" read "$N" --line-buffered >"$work/l.txt"
    nw=$(grep -c '^write(1,' "$work/l.trace")
    unended=$(grep '^write(1,' "$work/l.trace" | grep -cv '\\n", [0-9]*) *= ')
    check "--line-buffered: writes as records end ($nw writes, $unended not ending a line)" \
        "[ $nw -ge \$((\$(wc -l <'$work/l.txt') * 3 / 4)) ] && [ $unended = 0 ]"
else
    echo "note: no strace, write sizes not checked"
fi

# --seed: the same uids on every run; another seed, other uids.
uids() { "$T" read "$N" --conns --json "$@" | grep -o '"uid":"[^"]*"' | tr '\n' ' '; }
u1=$(uids --seed 7); u2=$(uids --seed 7); u3=$(uids --seed 8)
check "--seed 7 twice: the same uids" "[ -n '$u1' ] && [ '$u1' = '$u2' ]"
check "--seed 8: other uids" "[ '$u1' != '$u3' ]"
check "no --seed: uids differ between runs" "[ \"\$(uids)\" != \"\$(uids)\" ]"
"$T" read "$N" --seed 0 >/dev/null 2>&1
check "--seed 0: exit 2" "[ $? = 2 ]"
"$T" read "$N" --no-such-option >/dev/null 2>&1
check "unknown option: exit 2" "[ $? = 2 ]"
"$T" read "$N" "$work/missing.pcap" --json >"$work/partial.json" 2>/dev/null
check "a missing second file: exit 1, first file fully reported" \
    "[ $? = 1 ] && [ \$(grep -c '\"type\":\"conn\"' '$work/partial.json') = 2 ]"

# libpcap is loaded when first needed (src/source/pcap_lazy.c): a classic
# pcap file is read by tcplens's own reader, a filter compiles with libpcap.
loads_libpcap() { LD_DEBUG=files "$T" read "$@" 2>&1 >/dev/null | grep -q 'file=libpcap'; }
check "a pcap file read without a filter does not load libpcap" "! loads_libpcap '$N' --conns"
check "a filter loads libpcap" "loads_libpcap '$N' --conns 'port 8000'"
TCPLENS_LIBPCAP=$work/no-libpcap.so "$T" read "$N" --conns >"$work/nolib.txt" 2>&1
check "without libpcap a pcap file is still read" \
    "[ $? = 0 ] && [ \$(grep -cE '^#[0-9]' '$work/nolib.txt') = 2 ]"
TCPLENS_LIBPCAP=$work/no-libpcap.so "$T" read "$N" --conns 'port 8000' >/dev/null 2>"$work/nolib.err"
check "without libpcap a filter fails and says why" \
    "[ $? != 0 ] && grep -q 'libpcap could not be loaded: .*no-libpcap.so' '$work/nolib.err'"

echo "# read CLI: $fails failed checks"
[ $fails = 0 ]
