"""Run a command in a network namespace with nothing but loopback, brought up first.

    unshare -rn python tests/helpers/netless.py COMMAND ARGS...

A fresh namespace has only ``lo``, and down: local servers (``edgechat serve``) need it up; no
other interface, no route, no DNS. Exits 3 if another interface is there (not a namespace).
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import sys

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
IFREQ = "16sH22x"  # struct ifreq: the name, then ifr_flags in a 24-byte union


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = struct.unpack(IFREQ, fcntl.ioctl(sock, SIOCGIFFLAGS, struct.pack(IFREQ, b"lo", 0)))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack(IFREQ, b"lo", flags | IFF_UP))


if __name__ == "__main__":
    others = [name for _, name in socket.if_nameindex() if name != "lo"]
    if others:
        print(f"not an empty network namespace: {others}", file=sys.stderr)
        sys.exit(3)
    loopback_up()
    os.execvp(sys.argv[1], sys.argv[1:])
