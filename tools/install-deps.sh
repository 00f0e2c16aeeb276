#!/bin/sh
# install-deps.sh -- install the Debian packages tcplens needs, if missing.
# tshark is installed with "non-root capture" declined, non-interactively.
set -e
need=""
for pkg in build-essential clang libpcap-dev libcmocka-dev tcpdump tshark \
           libclang-rt-14-dev iproute2 python3 util-linux procps; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        need="$need $pkg"
done
[ -z "$need" ] && exit 0
echo "installing:$need"
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: need root to install:$need" >&2
    exit 1
fi
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || true
apt-get install -y -q --no-install-recommends $need
