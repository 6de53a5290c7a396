"""Several hubs on one PostgreSQL database deliver side by side: each lane leased to one of them at a
time, in order, every delivery made once (see :mod:`expediter.engine.lane_claims`)."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict

import msgspec
import pytest

from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.engine.lane_claims import LaneClaims
from expediter.plugin.base import Outbound
from expediter.storage.postgres import PostgresStorage
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message, sample_catalog

pytestmark = pytest.mark.service
HUBS = 3
LANES = {"kds|L1", "kds|L2", "printer|L1", "printer|L2", "bo|L1"}


class LaneWatch:
    """Counts deliveries in progress per lane across every hub: never two at once in one lane."""

    def __init__(self) -> None:
        self.in_flight: Counter[str] = Counter()
        self.overlaps = 0
        self.order: dict[str, list[int]] = defaultdict(list)
        """Per lane, the orders' numbers in the order their deliveries were made."""

    async def __call__(self, item: Outbound) -> None:
        lane = f"{item.destination}|{item.location_id}"
        self.in_flight[lane] += 1
        self.overlaps += self.in_flight[lane] > 1
        await asyncio.sleep(0)  # let the other hubs run while this delivery is in progress
        self.in_flight[lane] -= 1
        self.order[lane].append(msgspec.json.decode(item.payload)["n"])


def make_hubs(url: str, watch: LaneWatch) -> list[tuple[Hub, Board]]:
    made = []
    for _ in range(HUBS):
        board = Board(behaviour={"kds": watch, "printer": watch, "bo": watch})
        # polls far apart: work moves by notifications and lane hand-overs alone
        hub = Hub(
            sample_catalog(url),
            PostgresStorage(url),
            connectors=TEST_CONNECTORS,
            retry=RetryPolicy(base=0.001, cap=0.005),
            poll_interval=3600,
        )
        hub.services.extra["board"] = board
        made.append((hub, board))
    return made


def test_hubs_sharing_postgresql_each_deliver_lanes_in_order_and_every_delivery_once(
    postgres_url: str,
) -> None:
    watch = LaneWatch()
    hubs = make_hubs(postgres_url, watch)

    async def scenario() -> None:
        for hub, _ in hubs:
            await hub.start()
        try:
            # each hub its own location first: both deliver
            first, second = hubs[0][0], hubs[1][0]
            await first.inbox.accept(order_message(0, "L1"))
            await second.inbox.accept(order_message(1, "L2"))
            await eventually(lambda: sum(len(board.received) for _, board in hubs) == 3 + 2)
            assert {item.location_id for item in hubs[0][1].received} == {"L1"}
            assert {item.location_id for item in hubs[1][1].received} == {"L2"}

            # then every hub takes orders for every lane at once, and is told of every lane
            async def take(index: int) -> None:
                hub = hubs[index][0]
                for n in range(2 + index, 300, HUBS):
                    await hub.inbox.accept(order_message(n, "L1" if n % 2 else "L2"))
                    hub.deliveries.notify(LANES)

            await asyncio.gather(*(take(index) for index in range(HUBS)))
            expected = 300 * 2 + 150  # kds and printer everywhere, the back office at L1
            await eventually(lambda: sum(len(board.received) for _, board in hubs) == expected, 120)
        finally:
            for hub, _ in hubs:
                await hub.stop()

    asyncio.run(scenario())

    received = [item for _, board in hubs for item in board.received]
    keys = Counter(item.delivery_key for item in received)
    assert len(keys) == 750 and set(keys.values()) == {1}  # every delivery made once
    assert watch.overlaps == 0  # one hub at a time in a lane
    assert set(watch.order) == LANES
    for lane, numbers in watch.order.items():  # what each hub stored, one after another, in order
        for index in range(HUBS):
            own = [n for n in numbers if n >= 2 and (n - 2) % HUBS == index]
            assert own == sorted(own), (lane, index)
    assert sum(1 for _, board in hubs if board.received) >= 2  # more than one hub delivered


def test_a_lane_is_held_by_one_process_until_its_lease_ends(postgres_url: str) -> None:
    async def scenario() -> None:
        first, second = PostgresStorage(postgres_url), PostgresStorage(postgres_url)
        await first.start()
        await second.start()
        try:
            mine = LaneClaims(first, owner="first", lease_seconds=60)
            theirs = LaneClaims(second, owner="second", lease_seconds=60)
            assert await mine.claim("kds|L1")
            assert not await theirs.claim("kds|L1")  # held: skipped, not waited for
            assert await theirs.claim("kds|L2")
            assert await mine.renew() == set()
            await mine.release(["kds|L1"])
            assert await theirs.claim("kds|L1")
            assert await mine.renew() == set() and mine.held == set()
            # a process that stopped renewing (died): its lease runs out and the lane moves on
            await second.write(lambda tx: tx.execute("UPDATE lane_leases SET lease_until = 0"))
            assert await mine.claim("kds|L2")
            assert await theirs.renew() == {"kds|L2"}  # taken over: given up at once
            assert theirs.held == {"kds|L1"}
        finally:
            await first.stop()
            await second.stop()

    asyncio.run(scenario())
