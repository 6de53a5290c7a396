"""Every route's body is capped while it is read, chunked uploads included (``expediter serve``)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import msgspec
import pytest

from expediter.catalog.schema import ApiToken, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location
from expediter.sim.ports import free_port
from tests.clocks import SUITE_STARTED
from tests.processes import serve_command, wait_healthy

TOKEN = "body-limit-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHUNK = 64 * 1024
MAX_BODY_BYTES = 1_048_576  # 1 MiB, as docs/http.md says


def catalog_file(folder: Path) -> Path:
    catalog = Catalog(
        hub=Hub(database=str(folder / "hub.db")),
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(
                id="kds",
                kind=SystemKind.KDS,
                connector="kds",
                owner="chef",
                settings={"stations": {"grill": {}}},
            ),
        ],
        flows=[
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="chef",
            )
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def order_of_size(order_id: str, size: int) -> bytes:
    """A valid canonical order padded (in its notes) to ``size`` bytes."""
    opened = (SUITE_STARTED - timedelta(minutes=5)).isoformat()
    order = {
        "id": order_id,
        "location_id": "L1",
        "opened_at": opened,
        "lines": [{"id": "1", "name": "Burger", "quantity": "1", "unit_price": {"amount": 1250}}],
        "notes": "",
    }
    padding = size - len(msgspec.json.encode(order))
    return msgspec.json.encode({**order, "notes": "x" * padding})


def chunked(body: bytes) -> Iterator[bytes]:
    """The body as a chunked upload: no Content-Length, so only reading it tells its size."""
    for start in range(0, len(body), CHUNK):
        yield body[start : start + CHUNK]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("body-limits")


@pytest.fixture(scope="module")
def served(folder: Path) -> Iterator[str]:
    """One hub for the module: each test counts what was stored before and after its request."""
    port = free_port()
    process = subprocess.Popen(serve_command(catalog_file(folder), port), env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def stored_messages(folder: Path) -> int:
    with sqlite3.connect(folder / "hub.db") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])


def test_a_chunked_order_over_the_limit_is_refused_and_neither_stored_nor_forwarded(
    served: str, folder: Path
) -> None:
    before = stored_messages(folder)
    body = order_of_size("big-1", 2 * MAX_BODY_BYTES)
    with httpx.Client(base_url=served, timeout=60) as client:
        refused = client.post("/api/v1/orders", content=chunked(body), headers=AUTH)
        assert refused.status_code == 413, refused.text
        assert refused.json() == {
            "error": "the request body is larger than 1 MiB",
            "where": "body",
            "fix": "send one order, punch or event per request",
        }
        assert client.get("/api/v1/orders/big-1", headers=AUTH).status_code == 404
        assert client.get("/api/v1/kds/grill/tickets").json()["tickets"] == []
        # Just under the limit, in many chunks: read whole and accepted.
        fits = client.post(
            "/api/v1/orders", content=chunked(order_of_size("fits-1", MAX_BODY_BYTES - 1000)), headers=AUTH
        )
        assert fits.status_code == 202, fits.text
    assert stored_messages(folder) == before + 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/punches",
        "/api/v1/employees",
        "/api/v1/webhooks/pos",
        "/api/v1/kds/fire",
        "/api/v1/kds/availability",
        "/api/v1/kds/grill/recall",
        "/dashboard/replay",
    ],
)
def test_every_other_route_caps_a_chunked_body_too(served: str, folder: Path, path: str) -> None:
    before = stored_messages(folder)
    body = b'{"notes": "' + b"x" * (MAX_BODY_BYTES + CHUNK) + b'"}'
    with httpx.Client(base_url=served, timeout=60) as client:
        refused = client.post(path, content=chunked(body), headers=AUTH)
        assert refused.status_code == 413, refused.text
        assert refused.json()["error"] == "the request body is larger than 1 MiB"
        # The connection and the server carry on.
        assert client.get("/healthz").status_code == 200
    assert stored_messages(folder) == before
