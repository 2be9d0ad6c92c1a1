"""Free loopback ports for servers started by tests."""

from __future__ import annotations

import random
import socket
from pathlib import Path

# Ports the kernel hands out for outgoing connections (Linux default); a port chosen there may be
# taken by some connection before a slow server (Rasa loads for minutes) gets to bind it.
_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 20_000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _below_ephemeral() -> int:
    try:
        return int(_EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports, below the kernel's ephemeral range."""
    highest = _below_ephemeral() - count
    for _ in range(500):
        base = random.randint(_LOWEST, highest)
        taken: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                taken.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in taken:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports")
