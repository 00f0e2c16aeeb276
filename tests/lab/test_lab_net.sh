#!/bin/sh
# test_lab_net.sh -- the lab network end to end (SPEC.md 4.1): builds
# tests/lab/labnet_check.c with the lab sources and runs it as the current
# user (TUN link), with the veth fallback forced, and, when root, as `nobody`
# (user namespace, no privileges). Each run makes real TCP connections
# through the userspace wire (IPv4 and IPv6), checks the segments the wire
# saw, a dropped SYN being retransmitted, FINs made to cross by a hold rule,
# TIME-WAIT in sock_diag, and `tcplens states` when the binary exists.
# Exit 0 pass, 1 fail, 77 when the machine forbids namespaces.
top=${TL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
CC=${CC:-cc}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

if ! $CC -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
    -D_GNU_SOURCE -Iinclude -Isrc -O1 -g -o "$tmp/labnet_check" tests/lab/labnet_check.c \
    src/lab/netns.c src/lab/wire.c src/lab/sockdiag.c src/lab/kstate.c src/util/err.c \
    src/event/names.c -lpthread; then
    echo "cannot build labnet_check"
    exit 1
fi

states=""
if [ -n "$TCPLENS" ] && [ -x "$TCPLENS" ] && "$TCPLENS" states --help >/dev/null 2>&1; then
    cp "$TCPLENS" "$tmp/tcplens" && states="--tcplens $tmp/tcplens"
else
    echo "# tcplens binary missing: 'tcplens states' not checked"
fi

run() {
    label=$1; shift
    echo "== $label"
    timeout 120 "$@"
    rc=$?
    echo "== $label: exit $rc"
    return $rc
}

run "as $(id -un)" "$tmp/labnet_check" $states > "$tmp/self.log" 2>&1
rc=$?
cat "$tmp/self.log"
if [ $rc = 77 ]; then
    tail -n 2 "$tmp/self.log" | head -n 1
    exit 77
fi
[ $rc = 0 ] || exit 1

TL_LAB_LINK=veth run "as $(id -un), veth link forced" "$tmp/labnet_check" $states || exit 1

if [ "$(id -u)" = 0 ]; then
    if command -v setpriv >/dev/null 2>&1; then
        run "as nobody" setpriv --reuid=nobody --regid=nogroup --clear-groups \
            "$tmp/labnet_check" $states > "$tmp/nobody.log" 2>&1
        rc=$?
        cat "$tmp/nobody.log"
        case $rc in
        0) echo "# lab network also works unprivileged (user namespace)" ;;
        77) echo "# as nobody: skipped: $(tail -n 2 "$tmp/nobody.log" | head -n 1)" ;;
        *) exit 1 ;;
        esac
    else
        echo "# setpriv missing: the unprivileged run was not checked"
    fi
fi
exit 0
