"""Loopback ports for the demo's servers, benchmarks and tests."""

from __future__ import annotations

import socket


def free_port(preferred: int = 0) -> int:
    """``preferred`` if it is free on loopback now, else any free port (nobody listens on it; the
    caller binds it itself, or uses it as a port that refuses connections)."""
    for candidate in (preferred, 0) if preferred else (0,):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free loopback port")
