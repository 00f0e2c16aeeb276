#!/bin/sh
# test_prefetch_kept.sh -- the hot loops' prefetches are in the binary.
# A prefetch changes no result, so no other test notices when the compiler
# drops one: GCC 12 deleted all of tl_tracker_feed_many's look-ahead when
# the helper holding them became a function it judged free of side effects
# (f2ab426 to eb0a2a1: 1 prefetch left of 10). This counts them in the
# disassembly: the table entry, the connection's lines (for a SYN, FIN or
# RST its rarer ones too) and its analysis state in
# tl_tracker_feed_many, the file ahead in the pcap batch loop, the
# connections a sweep ends next (tl__sweep, expiry.c) and the next free
# slot (conn_new);
# the last two were deleted the same way when first written.
# Exit 0 pass, 1 fail, 77 skip (reason on the last line).
set -eu

top=${TL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TL_BUILD:-$top/build}
tcplens=${TCPLENS:-$build/tcplens}

skip() { echo "$1"; exit 77; }
[ -x "$tcplens" ] || skip "skip: no tcplens binary at $tcplens (make all)"
command -v objdump >/dev/null 2>&1 || skip "skip: no objdump (binutils)"
case "$(uname -m)" in x86_64) ;; *) skip "skip: counts x86-64 prefetch instructions only" ;; esac
[ -z "${TL_SANITIZER:-}" ] || skip "skip: the sanitizer build (clang -O1) is not the one measured"

# prefetches FUNCTION: prefetch instructions in FUNCTION's disassembly
prefetches() {
    objdump -d --no-show-raw-insn "$tcplens" |
        awk -v f="<$1>:" '$2 == f { p = 1; next } /^[0-9a-f]+ <.*>:$/ { p = 0 } p && /prefetch/ { n++ }
                          END { print n + 0 }'
}

fails=0
check() {   # FUNCTION AT_LEAST
    n=$(prefetches "$1")
    if [ "$n" -ge "$2" ]; then echo "ok: $1 has $n prefetches (at least $2)"
    else echo "FAIL: $1 has $n prefetches, at least $2 expected"; fails=$((fails + 1)); fi
}
check tl_tracker_feed_many 23
check tl__pcapbuf_take_many 2
check tl__sweep 4
check conn_new 2
echo "# prefetches: $fails failed checks"
[ $fails = 0 ]
