"""Two ``expediter serve`` processes on one PostgreSQL database deliver side by side; one killed
with SIGKILL mid-delivery gives its lane up when its lease runs out, and the other resends the
delivery in flight under the same key, then the rest of the lane in order."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from expediter.catalog.schema import ApiToken, Catalog, Hub
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Order
from tests.databases import query
from tests.engine.test_crash import start_server, stop, wait_all_delivered
from tests.processes import Receiver, kill_group, mirror_flow, mirror_systems, receiver

pytestmark = [pytest.mark.slow, pytest.mark.service]
__all__ = ["receiver"]  # the fixture, used by name
TOKEN = "lanes-test-token"
LOCATIONS = ["L1", "L2"]
ORDERS_PER_LANE = 8


def write_catalog(folder: Path, database: str, receiver_url: str) -> Path:
    catalog = Catalog(
        hub=Hub(database=database, lane_lease_seconds=2.0, takeover_seconds=1.0),
        locations=[Location(id=loc, name=loc, timezone="America/Chicago") for loc in LOCATIONS],
        systems=mirror_systems(receiver_url, timeout_seconds=55.0),
        flows=[mirror_flow()],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def post(base: str, location: str, n: int) -> None:
    order = Order(
        id=f"{location}-{n}",
        location_id=location,
        opened_at=datetime(2026, 5, 1, 17, 0, tzinfo=UTC),
        lines=[Line(id="1", name="Tacos", quantity=Decimal(1), unit_price=Money(399))],
    )
    response = httpx.post(
        f"{base}/api/v1/orders",
        content=msgspec.json.encode(order),
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 202


def wait_for(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.05)  # polling another process, not hiding a race


def lane_owners(database: str) -> dict[str, str]:
    return dict(query(database, "SELECT lane, owner FROM lane_leases WHERE owner != ''"))


def test_two_serve_processes_deliver_side_by_side_and_a_killed_ones_lane_moves_on(
    tmp_path: Path, postgres_url: str, receiver: Receiver
) -> None:
    config = write_catalog(tmp_path, postgres_url, receiver.url)
    first, first_base = start_server(config, 1)
    second, second_base = start_server(config, 1)
    try:
        # each process takes the first order of one location: each claims that lane and delivers
        post(first_base, "L1", 0)
        post(second_base, "L2", 0)
        wait_for(lambda: len(receiver.keys()) == 2)
        owners = lane_owners(postgres_url)
        assert len(set(owners.values())) == 2, owners  # both processes deliver
        [(killed_id,)] = query(postgres_url, "SELECT id FROM hub_processes WHERE pid = ?", (first.pid,))
        [killed_lane] = [lane for lane, owner in owners.items() if owner == killed_id]
        for n in range(1, ORDERS_PER_LANE):  # the rest of each lane, through the other process
            post(second_base, "L1", n)
            post(first_base, "L2", n)
        killed_location = killed_lane.rpartition("|")[2]
        [in_flight] = [key for key, order_id in receiver.arrived if order_id == f"{killed_location}-0"]

        kill_group(first)  # mid-delivery: its request is at the receiver, unanswered
        first.wait(timeout=10)
        wait_for(lambda: receiver.keys()[in_flight] == 2)  # resent by the other, same key
        assert lane_owners(postgres_url)[killed_lane] != killed_id
        receiver.gate.set()
        wait_all_delivered(postgres_url)
    finally:
        stop(second)
        kill_group(first)

    keys = {key for (key,) in query(postgres_url, "SELECT delivery_key FROM deliveries")}
    seen = receiver.keys()
    assert set(seen) == keys and len(keys) == len(LOCATIONS) * ORDERS_PER_LANE
    assert seen[in_flight] == 2 and all(n == 1 for key, n in seen.items() if key != in_flight)
    for location in LOCATIONS:  # each lane in order, the resent delivery first after the kill
        firsts = list(dict.fromkeys(order_id for _, order_id in receiver.arrived if order_id[:2] == location))
        assert firsts == [f"{location}-{n}" for n in range(ORDERS_PER_LANE)]
