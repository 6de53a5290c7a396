"""The hub as a separate process, for tests that run it the way a user does."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import msgspec

from expediter.catalog.schema import ApiToken, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location


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


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started with ``start_new_session=True`` and every process of its group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
