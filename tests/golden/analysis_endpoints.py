#!/usr/bin/env python3
"""analysis_endpoints.py -- client and server programs for the analysis
golden test's captures (run each inside its namespace).

usage: analysis_endpoints.py server MODE PORT
       analysis_endpoints.py client MODE ADDR PORT
MODE bulk:      the client sends 3 MB, the server reads it all and answers "ok".
MODE zerowin:   the server's receive buffer is small and it does not read for
                3 s while the client writes 1 MB: zero windows, probes,
                window updates.
MODE keepalive: SO_KEEPALIVE with TCP_KEEPIDLE=1, TCP_KEEPINTVL=1; the
                connection idles 4 s, then closes.
Every socket has a timeout, so a stuck peer ends the run.
"""
import socket
import sys
import time

BULK = 3 * 1024 * 1024
ZEROWIN = 1024 * 1024


def server(mode, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if mode == "zerowin":
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    ls.settimeout(20)
    s, _ = ls.accept()
    s.settimeout(30)
    if mode == "zerowin":
        time.sleep(3)
    want = {"bulk": BULK, "zerowin": ZEROWIN, "keepalive": 5}[mode]
    got = 0
    while got < want:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += len(chunk)
        if mode == "zerowin":
            time.sleep(0.002)
    s.sendall(b"ok")
    s.close()
    ls.close()


def client(mode, addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)
    if mode == "keepalive":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    for _ in range(50):
        try:
            s.connect((addr, port))
            break
        except (ConnectionRefusedError, socket.timeout):
            time.sleep(0.1)
    if mode == "keepalive":
        s.sendall(b"hello")
        time.sleep(4)
    else:
        s.sendall(b"x" * (BULK if mode == "bulk" else ZEROWIN))
    s.recv(16)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]))
    else:
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]))
