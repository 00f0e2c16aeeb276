#!/bin/sh
# run-fuzz.sh SECONDS -- runs every libFuzzer target for a bounded time over a
# seed corpus made at run time (self-made captures, the shared corpus when
# present, and a few hand-made frames). Fails on any crash or sanitizer report.
set -u
total=${1:-30}
top=$(pwd)
work=$(mktemp -d /tmp/tl-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/pipeline" "$work/decode"
# Seeds for the pipeline: real captures.
for f in "$top"/../shared/corpus/zeek/*/trace.pcap build/golden-captures/*.pcap*; do
    [ -f "$f" ] || continue
    size=$(wc -c <"$f")
    [ "$size" -le 65536 ] && cp "$f" "$work/pipeline/$(echo "$f" | md5sum | cut -c1-12)"
done
# Seeds for the decoder: a DLT selector byte then an Ethernet/IPv4/TCP SYN.
printf '\001\000\000\000\000\000\000\000\000\000\000\000\000\010\000\105\000\000\054\000\001\100\000\100\006\000\000\177\000\000\001\177\000\000\001\237\220\037\220\000\000\000\001\000\000\000\000\140\002\377\377\000\000\000\000\002\004\005\264' >"$work/decode/syn"
targets=$(ls build/fuzz/fuzz_* 2>/dev/null)
[ -n "$targets" ] || { echo "no fuzz targets built"; exit 1; }
n=$(echo "$targets" | wc -l)
each=$(( total / n )); [ "$each" -lt 5 ] && each=5
status=0
for t in $targets; do
    name=$(basename "$t" | sed 's/^fuzz_//')
    corpus="$work/$name"; mkdir -p "$corpus"
    echo "fuzz: $name for ${each}s (seeds: $(ls "$corpus" | wc -l))"
    if ! "$t" -max_total_time="$each" -rss_limit_mb=2048 -max_len=65536 \
            -artifact_prefix="$work/" -print_final_stats=1 "$corpus" >"$work/$name.log" 2>&1; then
        echo "FAIL fuzz $name:"; tail -n 40 "$work/$name.log"
        mkdir -p build/fuzz-crashes && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* build/fuzz-crashes/ 2>/dev/null
        status=1
    else
        grep -E 'stat::number_of_executed_units|Done' "$work/$name.log" | sed "s/^/  $name: /"
    fi
done
[ $status = 0 ] && echo "fuzz: all targets ran clean"
exit $status
