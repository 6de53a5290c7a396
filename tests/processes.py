"""The hub as a separate process, for tests that run it the way a user does."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from expediter.catalog.schema import ApiToken, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location
from expediter.sim.ports import free_port

PORT_ATTEMPTS = 5
"""How many ports :func:`start_serve` tries when the one it chose was taken meanwhile."""


def serve_catalog(folder: Path, token: str) -> Path:
    """A catalog a separate hub process can load: one location, one POS (a connector that ships
    with the hub), ``token`` for it, the database ``hub.db`` in ``folder``."""
    catalog = Catalog(
        hub=Hub(database=str(folder / "hub.db")),
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
        systems=[System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops")],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(token), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


class Receiver:
    """The second POS of :func:`mirror_systems`: every request's Idempotency-Key and order id, in the
    order they arrived (effects = distinct keys); answers only once ``gate`` is open, so
    deliveries pile up in flight meanwhile."""

    def __init__(self) -> None:
        self.arrived: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.gate = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = msgspec.json.decode(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.arrived.append((self.headers["Idempotency-Key"], body["id"]))
                outer.gate.wait()
                with contextlib.suppress(OSError):  # the hub may have died meanwhile
                    self.send_response(201)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/orders"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def keys(self) -> Counter[str]:
        """How many times each key arrived."""
        with self.lock:
            return Counter(key for key, _ in self.arrived)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.gate.set()
    server.server.shutdown()
    server.server.server_close()


def mirror_systems(receiver_url: str, timeout_seconds: float) -> list[System]:
    """A POS whose orders are mirrored to a second POS at ``receiver_url`` (a recording receiver
    the test runs): the destination a crash or failover test counts deliveries at."""
    return [
        System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
        System(
            id="pos2",
            kind=SystemKind.POS,
            connector="generic_pos",
            owner="ops",
            settings={"url": receiver_url, "timeout_seconds": timeout_seconds},
        ),
    ]


def mirror_flow() -> Flow:
    """Every order of ``pos`` to ``pos2`` in real time (see :func:`mirror_systems`)."""
    return Flow(
        id="mirror",
        from_="pos",
        to="pos2",
        data="orders",
        level=Level.REALTIME,
        trigger=Trigger.EVENT,
        owner="ops",
        contact="ops@bistro.example",
        description="Every order, mirrored to the second POS.",
        impact="The second POS misses orders.",
    )


def serve_command(config: Path, port: int, *, workers: int = 1) -> list[str]:
    """``expediter serve`` on loopback, warnings only (the installed entry point may be absent)."""
    command = [sys.executable, "-c", "from expediter.cli import main; main()", "serve", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return [*command, "--log-level", "warning"]


def wait_healthy(base: str, process: subprocess.Popen[bytes], *, timeout: float = 30.0) -> None:
    """Poll ``/healthz`` until the server answers; fail if it exits or takes over ``timeout``."""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not answer within {timeout:.0f} s")
        time.sleep(0.05)  # polling for readiness, not hiding a race
    raise AssertionError(f"the server exited with {process.returncode}")


def start_serve(
    config: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``expediter serve`` on a free loopback port, in a process group of its own, once healthy:
    the process and its base URL. The port is free when chosen and bound by the hub a moment
    later; should the hub exit meanwhile and another process hold the port, it starts again on
    another one."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        command = serve_command(config, port, workers=workers)
        process = subprocess.Popen(command, start_new_session=True, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, process)
        except AssertionError:
            kill_group(process)
            process.wait(timeout=30)
            if attempt < PORT_ATTEMPTS and port_taken(port):
                continue
            raise
        return process, base
    raise AssertionError("unreachable")


def port_taken(port: int) -> bool:
    """Whether another process holds the loopback ``port`` (it cannot be bound now)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started with ``start_new_session=True`` and every process of its group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
