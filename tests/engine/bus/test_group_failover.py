"""A scaled-out group as a user runs it: three ``expediter serve`` processes sharing one PostgreSQL
database and a three-node NATS JetStream cluster. Orders stream round-robin to the three; one hub
is killed with SIGKILL, then one NATS server; both come back.

Every acknowledged order is stored once and is in the stream once, each location's in the order
the outbox recorded them; every delivery reaches the downstream system under its stable key. The
recovery times (a hub lost → the next acknowledged order and the next publication from a
surviving hub; a NATS server lost → the next publication) are printed and recorded as test
properties (``--junitxml``) for docs/scale-out.md.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import msgspec
import nats
import pytest

from expediter.catalog.schema import ApiToken, Bus, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.engine.bus.relay import RELAY_LOCK
from expediter.model.location import Location
from tests.databases import query
from tests.engine.test_crash import TOKEN, Receiver, order, receiver, start_server, stop, wait_all_delivered
from tests.nats_servers import NatsCluster
from tests.processes import kill_group

pytestmark = [pytest.mark.slow, pytest.mark.service]
__all__ = ["receiver"]  # the fixture, used by name
HUBS = 3
LOCATIONS = ("L1", "L2")
PHASE_ACKS = 150
"""Acknowledged orders between one event and the next."""
CONCURRENCY = 6


def group_catalog(folder: Path, database: str, cluster: NatsCluster, receiver_url: str) -> Path:
    catalog = Catalog(
        hub=Hub(database=database, data_dir=str(folder / "data"), bus=Bus(url=cluster.url, replicas=3)),
        locations=[Location(id=loc, name=loc, timezone="America/Chicago") for loc in LOCATIONS],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(
                id="pos2",
                kind=SystemKind.POS,
                connector="generic_pos",
                owner="ops",
                settings={"url": receiver_url, "timeout_seconds": 30.0},
            ),
        ],
        flows=[
            Flow(
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
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def location_of(order_id: str) -> str:
    return LOCATIONS[int(order_id.removeprefix("group-")) % len(LOCATIONS)]


def located_order(n: int) -> bytes:
    """``order(n)`` of the crash test, at one of the group's locations in turn."""
    body = msgspec.json.decode(order(n))
    body["id"] = f"group-{n}"
    body["location_id"] = location_of(body["id"])
    return msgspec.json.encode(body)


class Stream:
    """Orders posted round-robin to the hubs that are up, from a few connections at once."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = bases
        self.down: set[int] = set()
        self.acknowledged: dict[str, float] = {}
        """Order id → when (monotonic) its 2xx arrived."""
        self.numbers = itertools.count()
        self.stopping = asyncio.Event()
        self.in_turn: list[list[str]] = []
        """Per connection, the orders it had acknowledged, in the order it sent them."""

    async def client(self, http: object) -> None:
        """One connection: each order sent once the previous one was answered."""
        import httpx

        assert isinstance(http, httpx.AsyncClient)
        sent_in_turn: list[str] = []
        self.in_turn.append(sent_in_turn)
        while not self.stopping.is_set():
            n = next(self.numbers)
            hub = n % len(self.bases)
            if hub in self.down:
                continue
            try:
                response = await http.post(
                    f"{self.bases[hub]}/api/v1/orders",
                    content=located_order(n),
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
            except httpx.TransportError:
                continue  # that hub is gone: the next order goes to the next one
            if response.status_code in (200, 202):
                self.acknowledged[f"group-{n}"] = time.monotonic()
                sent_in_turn.append(f"group-{n}")

    async def run(self) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=10) as http:
            await asyncio.gather(*(self.client(http) for _ in range(CONCURRENCY)))

    async def acks_after(self, count: int) -> None:
        target = len(self.acknowledged) + count
        while len(self.acknowledged) < target:
            await asyncio.sleep(0.02)  # waiting for the stream to go on, not hiding a race


def wait_relay_held(database: str) -> None:
    """Until a hub holds the relay's advisory lock (the first hub, before the others start)."""
    sql = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = ? AND granted"
    deadline = time.monotonic() + 30
    while query(database, sql, (RELAY_LOCK,))[0][0] != 1:
        assert time.monotonic() < deadline, "no hub took the relay lock"
        time.sleep(0.02)  # waiting for the relay to start, not hiding a race


def published_count(database: str) -> int:
    [(count,)] = query(database, "SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL")
    return int(count)


async def seconds_until(check: Callable[[], bool], since: float, timeout: float = 120.0) -> float:
    while not check():
        if time.monotonic() - since > timeout:
            raise AssertionError("the group did not recover")
        await asyncio.sleep(0.02)  # polling the database, not hiding a race
    return time.monotonic() - since


async def stream_leader(cluster: NatsCluster) -> str:
    client = await nats.connect(servers=[s.url for s in cluster.running()])
    try:
        info = await client.jetstream().stream_info("MESSAGES")
        assert info.cluster is not None and info.cluster.leader
        return str(info.cluster.leader)
    finally:
        await client.close()


async def stream_ids(cluster: NatsCluster) -> list[tuple[str, str]]:
    """(subject, Nats-Msg-Id) of every message in the messages stream, in stream order."""
    client = await nats.connect(servers=cluster.urls)
    try:
        js = client.jetstream()
        info = await js.stream_info("MESSAGES")
        found = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            stored = await js.get_msg("MESSAGES", sequence)
            found.append((stored.subject, (stored.headers or {})["Nats-Msg-Id"]))
        return found
    finally:
        await client.close()


def test_a_group_loses_a_hub_and_a_nats_server_and_loses_nothing(
    tmp_path: Path,
    postgres_url: str,
    nats_cluster: NatsCluster,
    receiver: Receiver,
    record_property: Callable[[str, object], None],
) -> None:
    receiver.gate.set()
    config = group_catalog(tmp_path, postgres_url, nats_cluster, receiver.url)
    hubs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    figures: dict[str, float] = {}
    try:
        for number in range(HUBS):  # one after the other: the first delivers and relays
            process, base = start_server(config, 1)
            hubs.append(process)
            bases.append(base)
            if number == 0:
                wait_relay_held(postgres_url)

        async def scenario() -> None:
            stream = Stream(bases)
            streaming = asyncio.create_task(stream.run())
            await stream.acks_after(PHASE_ACKS)

            # A hub lost: the one that delivers and relays, by SIGKILL.
            published = published_count(postgres_url)
            lost = time.monotonic()
            kill_group(hubs[0])
            hubs[0].wait()
            stream.down.add(0)
            acked = len(stream.acknowledged)
            figures["hub_loss_to_next_ack_s"] = await seconds_until(
                lambda: len(stream.acknowledged) > acked, lost
            )
            figures["hub_loss_to_next_publish_s"] = await seconds_until(
                lambda: published_count(postgres_url) > published + 1, lost
            )
            await stream.acks_after(PHASE_ACKS)

            # A NATS server lost: the messages stream's leader, by SIGKILL.
            leader = nats_cluster.server(await stream_leader(nats_cluster))
            published = published_count(postgres_url)
            lost = time.monotonic()
            leader.kill()
            figures["nats_loss_to_next_publish_s"] = await seconds_until(
                lambda: published_count(postgres_url) > published + 1, lost
            )
            await stream.acks_after(PHASE_ACKS)

            # Both come back.
            await asyncio.to_thread(leader.start)
            process, _ = await asyncio.to_thread(start_server, config, 1)
            hubs[0] = process
            await stream.acks_after(PHASE_ACKS)
            stream.stopping.set()
            await streaming
            acknowledged.update(stream.acknowledged)
            in_turn.extend(stream.in_turn)

        acknowledged: dict[str, float] = {}
        in_turn: list[list[str]] = []
        asyncio.run(scenario())
        wait_all_delivered(postgres_url)
        deadline = time.monotonic() + 60
        while query(postgres_url, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")[0][0]:
            assert time.monotonic() < deadline, "the outbox never emptied"
            time.sleep(0.05)  # waiting for the relay, not hiding a race
    finally:
        for process in hubs:
            stop(process)

    stored = Counter(ref for (ref,) in query(postgres_url, "SELECT ref FROM messages WHERE kind = 'orders'"))
    assert len(acknowledged) >= 4 * PHASE_ACKS
    assert all(stored[order_id] == 1 for order_id in acknowledged), (
        "an acknowledged order was lost or doubled"
    )
    assert max(stored.values()) == 1

    # The stream holds each stored message once, under its subject per location.
    in_stream = asyncio.run(stream_ids(nats_cluster))
    ids = Counter(msg_id for _, msg_id in in_stream)
    outbox = query(postgres_url, "SELECT msg_id, subject, stream_seq FROM outbox ORDER BY id")
    assert set(ids) == {msg_id for msg_id, _, _ in outbox} and max(ids.values()) == 1
    assert {subject for subject, _ in in_stream} == {f"expediter.orders.{loc}" for loc in LOCATIONS}
    # Orders a sender sent one after the other (each once the previous was acknowledged, to
    # whichever hub) are in the stream in that order, through the hub's and the server's loss.
    sequence_of = dict(
        query(postgres_url, "SELECT m.ref, o.stream_seq FROM outbox o JOIN messages m ON m.id = o.message_id")
    )
    for sent in in_turn:
        for location in LOCATIONS:
            mine = [sequence_of[o] for o in sent if location_of(o) == location]
            assert mine == sorted(mine), f"a sender's orders at {location} are out of order in the stream"

    # Every delivery reached the downstream system, under its stable key.
    keys = {key for (key,) in query(postgres_url, "SELECT delivery_key FROM deliveries")}
    assert set(receiver.keys) == keys and len(keys) == len(stored)

    for name, seconds in figures.items():
        record_property(name, round(seconds, 3))
    print("\nrecovery:", ", ".join(f"{name} = {seconds:.2f}" for name, seconds in figures.items()))
