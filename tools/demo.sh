#!/bin/sh
# demo.sh BIN -- `make demo`: the lab tour (six real TCP experiments in a
# private network, no root needed, every check against the kernel), then
# `read` on the handshake capture the tour saved, drawn as a ladder.
set -eu
[ $# -eq 1 ] || { echo "usage: tools/demo.sh path/to/tcplens" >&2; exit 2; }
bin=$1
out=$(dirname "$bin")/demo
mkdir -p "$out"
echo "==> tcplens lab -w $out    (the tour: $("$bin" lab --list | grep -c '\[tour\]') experiments)"
echo
status=0
"$bin" lab -w "$out" || status=$?
echo
echo "==> tcplens read $out/handshake.pcap --ladder    (the capture the lab saved, read back)"
"$bin" read "$out/handshake.pcap" --ladder
echo
echo "==> More: tcplens lab --list; tcplens lab simultaneous-close; tcplens read $out/rst.pcap --json"
exit $status
