#!/usr/bin/env python3
"""analysis_wire.py -- a userspace wire between two network namespaces that
loses, delays and reorders packets (a stand-in for tc netem, which this
kernel may lack).

usage: analysis_wire.py NS_A NS_B LOSS DELAY_MS REORDER SEED SECONDS [DEV_A DEV_B]
  Opens a TUN device DEV_A (default "tlw0") inside NS_A and DEV_B (default
  "tlw1") inside NS_B (both namespaces must exist; the caller configures
  addresses once this prints "ready") and
  relays IP packets between them for at most SECONDS. Each packet is dropped
  with probability LOSS, else delivered after DELAY_MS, except that with
  probability REORDER it is delivered at once, overtaking the queue (netem's
  reorder). SYN and FIN segments are never dropped, so every run completes.
"""
import ctypes
import errno
import fcntl
import heapq
import os
import random
import select
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000

libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (path, os.strerror(err)))
    finally:
        os.close(fd)


def open_tun(name):
    # The previous capture's device of this name may still be going away
    # (EBUSY on a loaded machine, seen in make test): wait up to 10 s.
    for attempt in range(100):
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        try:
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
            return fd
        except OSError as e:
            os.close(fd)
            if e.errno != errno.EBUSY or attempt == 99:
                raise
            time.sleep(0.1)


def tcp_flags(pkt):
    """TCP flag byte of an IPv4/IPv6 packet, or None."""
    if len(pkt) >= 20 and pkt[0] >> 4 == 4 and pkt[9] == 6:
        off = (pkt[0] & 15) * 4
    elif len(pkt) >= 40 and pkt[0] >> 4 == 6 and pkt[6] == 6:
        off = 40
    else:
        return None
    return pkt[off + 13] if len(pkt) > off + 13 else None


def main(argv):
    ns_a, ns_b = argv[0], argv[1]
    loss, delay, reorder = float(argv[2]), float(argv[3]) / 1000.0, float(argv[4])
    rng = random.Random(int(argv[5]))
    deadline = time.monotonic() + float(argv[6])

    home = "/proc/self/ns/net"
    home_fd = os.open(home, os.O_RDONLY)
    setns("/run/netns/" + ns_a)
    dev_a = argv[7] if len(argv) > 7 else "tlw0"
    dev_b = argv[8] if len(argv) > 8 else "tlw1"
    fd_a = open_tun(dev_a)
    setns("/run/netns/" + ns_b)
    fd_b = open_tun(dev_b)
    libc.setns(home_fd, CLONE_NEWNET)
    os.close(home_fd)
    print("ready", flush=True)

    peer = {fd_a: fd_b, fd_b: fd_a}
    queue, order = [], 0   # (due, order, out_fd, packet)
    while time.monotonic() < deadline:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, pkt = heapq.heappop(queue)
            try:
                os.write(out, pkt)
            except OSError:
                pass
        timeout = max(0.0, min(0.05, queue[0][0] - now)) if queue else 0.05
        ready, _, _ = select.select([fd_a, fd_b], [], [], timeout)
        for fd in ready:
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                flags = tcp_flags(pkt)
                if flags is None:
                    continue
                if not flags & 0x03 and rng.random() < loss:
                    continue
                now = time.monotonic()
                due = now if rng.random() < reorder else now + delay
                order += 1
                heapq.heappush(queue, (due, order, peer[fd], pkt))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
