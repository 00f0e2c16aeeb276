#!/bin/sh
# test_zeek_corpus.sh -- conn records agree with Zeek's own conn.log verdicts.
# For every TCP row of ../shared/corpus/zeek/expected.tsv (from the project
# root) whose case is tier `plain`, runs `$TCPLENS read <case>/trace.pcap
# --json` (with --checksums=verify when Zeek ran without -C) and compares
# conn_state, history, packets and bytes (see zeek_corpus.py). Fails when
# conn_state or history agreement is below 98 %. Skips (77) without the
# corpus, python3 or the binary.
top=${TL_TOP:-$(pwd)}
corpus="$top/../shared/corpus/zeek"
here=$(dirname "$0")
if [ ! -f "$corpus/expected.tsv" ] || [ ! -f "$corpus/cases.tsv" ]; then
    echo "skip: Zeek corpus not found at $corpus"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "skip: python3 not installed"
    exit 77
fi
if [ -z "$TCPLENS" ] || [ ! -x "$TCPLENS" ]; then
    echo "skip: tcplens binary not built (TCPLENS=${TCPLENS:-unset})"
    exit 77
fi
exec python3 "$here/zeek_corpus.py" "$corpus" "$TCPLENS"
