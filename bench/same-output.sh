#!/bin/bash
# same-output.sh OLD NEW [FILE...] -- do two tcplens builds write the same
# bytes? Every view (text, -S -tt, -q, --json, --conns, --zeek, --ladder) of
# each file, with a fixed --seed; the #open/#close dates of --zeek are
# dropped. For refactoring the hot path: a speed-up must not change output.
# Default files: bench/data/h1m.pcap and f1m.pcap (when generated) and the
# corpus captures. Exit 1 at the first difference (diff shown).
set -u
old=$1 new=$2; shift 2
files=("$@")
if [ ${#files[@]} = 0 ]; then
    for f in bench/data/h1m.pcap bench/data/f1m.pcap; do [ -f "$f" ] && files+=("$f"); done
    while IFS= read -r f; do files+=("$f"); done < <(find ../shared/corpus -name '*.pcap*' 2>/dev/null | sort)
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
views=("" "-S -tt" "-q" "--json" "--conns" "--conns --json" "--zeek" "--ladder")
n=0
for f in "${files[@]}"; do
    for v in "${views[@]}"; do
        # shellcheck disable=SC2086
        "$old" read "$f" --seed 1234 $v 2>&1 | grep -v '^#open\|^#close' >"$tmp/a"
        # shellcheck disable=SC2086
        "$new" read "$f" --seed 1234 $v 2>&1 | grep -v '^#open\|^#close' >"$tmp/b"
        if ! cmp -s "$tmp/a" "$tmp/b"; then
            echo "DIFFERENT: $f read $v"
            diff "$tmp/a" "$tmp/b" | head -n 20
            exit 1
        fi
        n=$((n + 1))
    done
done
echo "same output: $n runs over ${#files[@]} files"
