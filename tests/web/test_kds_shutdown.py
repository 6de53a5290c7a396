"""`expediter serve` stops while kitchen screens are connected: a real process, a real live feed."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import msgspec
import pytest

from expediter.catalog.schema import ApiToken, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location
from expediter.sim.ports import free_port
from tests.processes import kill_group, serve_command, wait_healthy

pytestmark = pytest.mark.slow


def kitchen_catalog(folder: Path) -> Path:
    """One location, a POS and the built-in kitchen screens, the database in ``folder``."""
    catalog = Catalog(
        hub=Hub(database=str(folder / "hub.db")),
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(id="kds", kind=SystemKind.KDS, connector="kds", owner="kitchen"),
        ],
        flows=[
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="kitchen",
            )
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token("a-token-for-the-pos"), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def test_serve_stops_on_sigterm_while_screens_are_connected(tmp_path: Path) -> None:
    port = free_port()
    command = serve_command(kitchen_catalog(tmp_path), port)
    process = subprocess.Popen(command, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    received: list[str] = []
    try:
        wait_healthy(base, process)
        client = httpx.Client(base_url=base, timeout=httpx.Timeout(10.0))
        with (
            client,
            client.stream("GET", "/kds/grill/events") as grill,
            client.stream("GET", "/kds/expo/events"),
        ):
            lines = grill.iter_lines()
            while "event: caught_up" not in received:
                received.append(next(lines))
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)  # generous: a hang, not a slow stop, fails here
            received.extend(lines)  # what was left; a stream cut off unfinished would raise
    finally:
        if process.poll() is None:
            kill_group(process)
            process.wait()
    assert code == 0
    assert "event: snapshot" in received
