#!/usr/bin/env python3
"""no_userns.py CMD... -- run CMD as uid/gid 65534 where user namespaces are
not allowed: inside a fresh user namespace (0 and 65534 mapped) whose
max_user_namespaces is 0. Needs root. Exit status is CMD's."""
import ctypes
import os
import sys

CLONE_NEWUSER = 0x10000000
libc = ctypes.CDLL(None, use_errno=True)

r, w = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.close(r2)
    if libc.unshare(CLONE_NEWUSER) != 0:
        os._exit(111)
    os.write(w2, b"u")
    os.read(r, 1)                     # maps written by the parent
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    os.execvp(sys.argv[1], sys.argv[1:])
os.close(r)
os.close(w2)
os.read(r2, 1)
with open(f"/proc/{pid}/setgroups", "w") as f:
    f.write("allow")
with open(f"/proc/{pid}/uid_map", "w") as f:
    f.write("0 0 1\n65534 65534 1\n")
with open(f"/proc/{pid}/gid_map", "w") as f:
    f.write("0 0 1\n65534 65534 1\n")
os.write(w, b"g")
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
