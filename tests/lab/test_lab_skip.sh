#!/bin/sh
# test_lab_skip.sh -- where the lab cannot make its network (here: an
# unprivileged user in a user namespace whose max_user_namespaces is 0), each
# scenario is reported SKIPPED with the reason and what to do, never passed,
# and the exit status is not 0.
set -u
T=${TCPLENS:-build/tcplens}
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$T" ] || { echo "no tcplens binary at $T"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to build the user namespace that forbids user namespaces"; exit 77; }
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
python3 "$here/no_userns.py" true 2>/dev/null || { echo "cannot make a nested user namespace here"; exit 77; }
fails=0
python3 "$here/no_userns.py" "$T" lab handshake rst >"$out" 2>&1
rc=$?
cat "$out"
[ $rc != 0 ] || { echo "FAIL: exit status 0 although nothing ran"; fails=1; }
[ "$(grep -c '^SKIPPED' "$out")" = 2 ] || { echo "FAIL: expected 2 SKIPPED lines"; fails=1; }
grep -q 'max_user_namespaces' "$out" || { echo "FAIL: the reason is not named"; fails=1; }
grep -q 'sudo' "$out" || { echo "FAIL: no advice on what to run instead"; fails=1; }
if grep -q '^PASS' "$out"; then echo "FAIL: a check passed although nothing ran"; fails=1; fi
python3 "$here/no_userns.py" "$T" lab handshake --json >"$out" 2>&1
grep -q '"type":"skip"' "$out" || { echo "FAIL: no skip record in --json"; fails=1; }
if grep -q '"ok":true' "$out"; then echo "FAIL: --json reports a passed check"; fails=1; fi
echo "# lab without user namespaces: scenarios reported SKIPPED with the reason (exit $rc)"
[ $fails = 0 ]
