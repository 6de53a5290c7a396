"""Crash test: the hub as a user runs it (``expediter serve``, on SQLite and on PostgreSQL) is
killed with SIGKILL mid-stream, with one process and with two sharing the database.

Every order that got a 2xx before the kill must be stored exactly once after the restart, and every
delivery to the downstream receiver must take effect exactly once (the receiver de-duplicates by the
``Idempotency-Key`` the sink sends, i.e. the delivery key).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import msgspec
import pytest

from expediter.catalog.schema import ApiToken, Catalog, Hub
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Modifier, Order
from tests.databases import query
from tests.processes import (
    Receiver,
    kill_group,
    mirror_flow,
    mirror_systems,
    receiver,
    start_serve,
)

pytestmark = [pytest.mark.slow, pytest.mark.service]
__all__ = ["receiver"]  # the fixture, used by name
TOKEN = "crash-test-token"
ACKS_BEFORE_KILL = 400
CONCURRENCY = 16


def write_catalog(folder: Path, database: str, receiver_url: str) -> Path:
    catalog = Catalog(
        hub=Hub(database=database),
        locations=[Location(id="L1", name="Downtown", timezone="America/Chicago")],
        # The timeout is longer than the stream takes on a loaded machine: the delivery the receiver
        # holds must still be in flight (not timed out and retried) when the hub is killed.
        systems=mirror_systems(receiver_url, timeout_seconds=55.0),
        flows=[mirror_flow()],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def start_server(config: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """The hub as a user runs it, ``expediter serve --workers N``, on a free loopback port, in a
    process group of its own so that one SIGKILL takes the parent and every worker at once, none
    of them left to shut down cleanly. (A killed process's writes stay in the kernel's page cache:
    this proves the order of store and acknowledgement, not the fsync.)"""
    return start_serve(config, workers=workers)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the hub (the parent passes it on to its workers); SIGKILL whatever is left."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    finally:
        kill_group(process)


def order(n: int) -> bytes:
    return msgspec.json.encode(
        Order(
            id=f"crash-{n}",
            location_id="L1",
            opened_at=datetime(2026, 5, 1, 17, 0, tzinfo=UTC),
            lines=[
                Line(
                    id="1",
                    name="Tacos",
                    quantity=Decimal(3),
                    unit_price=Money(399),
                    modifiers=[Modifier(name="Salsa verde")],
                )
            ],
        )
    )


async def stream_until_killed(base: str, process: subprocess.Popen[bytes]) -> set[str]:
    """Post orders from several connections; SIGKILL the hub once enough were acknowledged."""
    acknowledged: set[str] = set()
    counter = iter(range(10**6))
    killed = asyncio.Event()

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            while not killed.is_set():
                n = next(counter)
                try:
                    response = await http.post(
                        "/api/v1/orders", content=order(n), headers={"Authorization": f"Bearer {TOKEN}"}
                    )
                except httpx.TransportError:
                    return
                if response.status_code in (200, 202):
                    acknowledged.add(f"crash-{n}")
                if len(acknowledged) >= ACKS_BEFORE_KILL and not killed.is_set():
                    kill_group(process)
                    killed.set()

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return acknowledged


def wait_all_delivered(database: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        [(open_count,)] = query(database, "SELECT COUNT(*) FROM deliveries WHERE state != 'delivered'")
        if open_count == 0:
            return
        assert time.monotonic() < deadline, f"{open_count} deliveries never completed"
        time.sleep(0.05)


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_mid_stream_loses_nothing_and_repeats_no_effect(
    tmp_path: Path, database: str, receiver: Receiver, workers: int
) -> None:
    """With two workers, both processes commit to the same database (on SQLite in turn: the
    writers' lock, the commit on the event loop) and either may be mid-commit when they are
    killed."""
    config = write_catalog(tmp_path, database, receiver.url)
    process, base = start_server(config, workers)
    try:
        acknowledged = asyncio.run(stream_until_killed(base, process))
        assert process.wait(timeout=10) == -signal.SIGKILL
        reached_before_kill = set(receiver.keys())
        receiver.gate.set()
        process, base = start_server(config, workers)
        wait_all_delivered(database)
    finally:
        stop(process)

    stored = Counter(ref for (ref,) in query(database, "SELECT ref FROM messages"))
    keys = {key for (key,) in query(database, "SELECT delivery_key FROM deliveries")}
    assert len(acknowledged) >= ACKS_BEFORE_KILL
    assert all(stored[order_id] == 1 for order_id in acknowledged), (
        "an acknowledged order was lost or doubled"
    )
    assert max(stored.values()) == 1
    assert set(receiver.keys()) == keys  # every delivery reached the receiver, under its stable key
    assert len(keys) == len(stored)
    # the kill left deliveries pending and one in flight (received, never answered): all resumed
    assert len(reached_before_kill) == 1
    [in_flight] = reached_before_kill
    arrived = receiver.keys()
    assert arrived[in_flight] == 2 and all(n == 1 for k, n in arrived.items() if k != in_flight)
