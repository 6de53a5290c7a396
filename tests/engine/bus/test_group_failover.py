"""A scaled-out group as a user runs it: three ``expediter serve`` processes sharing one PostgreSQL
database and a three-node NATS JetStream cluster. Orders stream round-robin to the three; one hub
is killed with SIGKILL, then one NATS server; both come back.

The group's nightly close (a scheduled sales summary per location, to the office's folder) comes
due just after the hub that runs the scheduler is killed: it runs once per location for its
business date, in the process that took the scheduler over (one transfer in the ledger, one file
in the folder). The test and every hub live on a clock set to a little before the close's time
(``EXPEDITER_CLOCK_OFFSET``), so it passes on any date, at any hour.

Every acknowledged order is stored once and is in the stream once (a sender's orders in the order
it sent them, per location); every delivery reaches the downstream system under its stable key;
a kitchen screen on each of the two processes the kitchen does not run in shows every order's
ticket, each of the station's events once, in the kitchen's order. The
recovery times (a hub lost → the next acknowledged order and the next publication from a
surviving hub; a NATS server lost → the next publication) are printed and recorded as test
properties (``--junitxml``) for docs/scale-out.md.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import msgspec
import nats
import pytest

from expediter.catalog.schema import ApiToken, Bus, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.engine.bus.relay import RELAY_LOCK
from expediter.engine.schedule_time import closes_business_date
from expediter.model import clock
from expediter.model.location import Location
from tests.databases import query
from tests.engine.test_crash import TOKEN, order, start_server, stop, wait_all_delivered
from tests.nats_servers import NatsCluster
from tests.processes import Receiver, kill_group, mirror_flow, mirror_systems, receiver
from tests.web.signin import add_user_by_command, pair_at_devices, sign_in_to

pytestmark = [pytest.mark.slow, pytest.mark.service]
__all__ = ["receiver"]  # the fixture, used by name
HUBS = 3
LOCATIONS = ("L1", "L2")
TIMEZONE = "America/Chicago"
CLOSE_FLOW = "nightly-close"
CLOSE_AT = time_of_day(5, 0)
"""The nightly close's local time: one every date has, whatever its DST change."""
CLOSE_LEAD = 45.0
"""Seconds of the group's clock between the first hub's start and the close coming due: about
what starting the hubs and the first phase of orders take."""
KILL_BEFORE_CLOSE = timedelta(seconds=0.5)
"""The scheduler's process is killed this long before the close is due (or at once, should the
first phase end later): the close comes due while no process runs the scheduler."""
PHASE_ACKS = 150
"""Acknowledged orders between one event and the next."""
CONCURRENCY = 6


def group_catalog(folder: Path, database: str, cluster: NatsCluster, receiver_url: str) -> Path:
    catalog = Catalog(
        hub=Hub(database=database, data_dir=str(folder / "data"), bus=Bus(url=cluster.url, replicas=3)),
        locations=[Location(id=loc, name=loc, timezone=TIMEZONE) for loc in LOCATIONS],
        systems=[
            *mirror_systems(receiver_url, timeout_seconds=30.0),
            System(id="kds", kind=SystemKind.KDS, connector="kds", owner="kitchen"),
            System(
                id="office",
                kind=SystemKind.BACK_OFFICE,
                connector="csv",
                owner="Controller",
                settings={"transport": {"inbox_dir": str(office_folder(folder))}},
            ),
        ],
        flows=[
            mirror_flow(),
            Flow(
                id=CLOSE_FLOW,
                from_="pos",
                to="office",
                data="sales_summary",
                level=Level.FILE,
                trigger=Trigger.SCHEDULE,
                schedule=f"{CLOSE_AT.minute} {CLOSE_AT.hour} * * *",
                transport="folder",
                owner="Controller",
                contact="controller@bistro.example",
                description="The night's sales summary of each location, to the office's folder.",
                impact="The books miss a night.",
            ),
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="kitchen",
                contact="kitchen@bistro.example",
                description="Every order, to the kitchen screens.",
                impact="The cooks do not see the orders.",
            ),
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def office_folder(folder: Path) -> Path:
    return folder / "office"


@pytest.fixture
def close_due(monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    """When the nightly close comes due (tomorrow, the locations' date); the test, and every hub
    process it starts, live on a clock that reads :data:`CLOSE_LEAD` seconds before that now."""
    zone = ZoneInfo(TIMEZONE)
    tomorrow = clock.now().astimezone(zone).date() + timedelta(days=1)
    due = datetime.combine(tomorrow, CLOSE_AT, tzinfo=zone)
    offset = clock.offset_to(due - timedelta(seconds=CLOSE_LEAD))
    monkeypatch.setenv(clock.OFFSET_VARIABLE, repr(offset))
    with clock.use_clock(clock.SystemClock(timedelta(seconds=offset))):
        yield due


def closes_recorded(database: str) -> list[tuple[str, str, str, str]]:
    """(location, business date, outcome, file name) of every transfer of the nightly close."""
    rows = query(
        database,
        "SELECT location_id, business_date, outcome, file_name FROM transfers WHERE flow_id = ?"
        " ORDER BY location_id",
        (CLOSE_FLOW,),
    )
    return [(str(loc), str(day), str(outcome), str(name)) for loc, day, outcome, name in rows]


def closed_date(due: datetime) -> date:
    """The business date the close due at ``due`` closes (every location shares the time zone)."""
    return closes_business_date(Location(id="any", name="any", timezone=TIMEZONE), due)


def roles_of(database: str) -> dict[int, str]:
    """Each hub process's pid and the parts it holds, as its heartbeat row says."""
    return {int(pid): str(role) for pid, role in query(database, "SELECT pid, role FROM hub_processes")}


async def until_clock(instant: datetime) -> None:
    """Until the group's clock reads ``instant`` (at once if it is past)."""
    while (left := (instant - clock.now()).total_seconds()) > 0:
        await asyncio.sleep(min(left, 0.05))  # waiting for a time of day, not hiding a race


def location_of(order_id: str) -> str:
    return LOCATIONS[int(order_id.removeprefix("group-")) % len(LOCATIONS)]


def located_order(n: int) -> bytes:
    """``order(n)`` of the crash test, at one of the group's locations in turn, opened now (the
    kitchen leaves out orders opened longer ago than it keeps tickets)."""
    body = msgspec.json.decode(order(n))
    body["id"] = f"group-{n}"
    body["opened_at"] = clock.now_iso()
    body["location_id"] = location_of(body["id"])
    return msgspec.json.encode(body)


class Screen:
    """A kitchen screen's live feed on one hub process, read in a thread of its own as a browser
    does: reconnecting with ``Last-Event-ID`` whenever the stream ends."""

    def __init__(self, base: str, station: str, cookies: httpx.Cookies) -> None:
        self.base = base
        self.station = station
        self.cookies = cookies
        self.events: list[tuple[int, str]] = []
        """(event id, order id) of each ticket event, as received."""
        self.reconnects = 0
        self.statuses: list[int] = []
        self.refusals: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        with httpx.Client(base_url=self.base, cookies=self.cookies, timeout=httpx.Timeout(20.0)) as client:
            while not self.stopping.is_set():
                headers = {"Last-Event-ID": str(self.events[-1][0])} if self.events else {}
                try:
                    with client.stream("GET", f"/kds/{self.station}/events", headers=headers) as feed:
                        self.statuses.append(feed.status_code)
                        if feed.status_code != 200:
                            self.refusals.append(feed.read().decode())
                            self.stopping.wait(0.5)  # a browser's retry pause before it reconnects
                            continue
                        self._lines(feed.iter_lines())
                except httpx.TransportError:
                    pass
                if not self.stopping.is_set():
                    self.reconnects += 1

    def _lines(self, lines: Iterator[str]) -> None:
        seq, kind = 0, ""
        for line in lines:
            if self.stopping.is_set():
                return
            if line.startswith("id: "):
                seq = int(line.removeprefix("id: "))
            elif line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind == "ticket":
                ticket = msgspec.json.decode(line.removeprefix("data: "))["ticket"]
                self.events.append((seq, ticket["order_id"]))

    def orders(self) -> set[str]:
        return {order_id for _, order_id in self.events}


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


STATION = "kitchen"
"""Where every line goes (no category mapping: the kitchen's default station)."""


def paired_screen(base: str) -> httpx.Cookies:
    """A kitchen screen paired on the hub at ``base`` for every location: its cookies (the device
    is in the shared database, so the other hubs of the group know it too)."""
    with httpx.Client(base_url=base, timeout=httpx.Timeout(20.0)) as client:
        sign_in_to(client)
        pair_at_devices(client, STATION, "*", stations=(STATION,))
        return client.cookies


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
    close_due: datetime,
    record_property: Callable[[str, object], None],
) -> None:
    receiver.gate.set()
    config = group_catalog(tmp_path, postgres_url, nats_cluster, receiver.url)
    hubs: list[subprocess.Popen[bytes]] = []
    screens: list[Screen] = []
    bases: list[str] = []
    figures: dict[str, float] = {}
    try:
        for number in range(HUBS):  # one after the other: the first delivers and relays
            process, base = start_server(config, 1)
            hubs.append(process)
            bases.append(base)
            if number == 0:
                wait_relay_held(postgres_url)
                add_user_by_command(config)
                cookies = paired_screen(base)
        # The screens are on the two hubs that keep running; the kitchen runs in the first.
        screens = [Screen(base, STATION, cookies) for base in bases[1:]]
        for screen in screens:
            screen.thread.start()

        async def scenario() -> None:
            stream = Stream(bases)
            streaming = asyncio.create_task(stream.run())
            await stream.acks_after(PHASE_ACKS)

            # A hub lost: the one that delivers, relays and runs the scheduler, by SIGKILL, just
            # before the nightly close comes due.
            assert "scheduler" in roles_of(postgres_url)[hubs[0].pid]
            await until_clock(close_due - KILL_BEFORE_CLOSE)
            published = published_count(postgres_url)
            lost = time.monotonic()
            figures["holder_killed_before_close_s"] = (close_due - clock.now()).total_seconds()
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
        while not all(set(acknowledged) <= screen.orders() for screen in screens):
            assert time.monotonic() < deadline, [
                (
                    len(acknowledged),
                    len(screen.orders()),
                    len(screen.events),
                    screen.statuses[-3:],
                    screen.refusals[-1:],
                )
                for screen in screens
            ]
            time.sleep(0.05)  # waiting for the screens' feeds, not hiding a race
        deadline = time.monotonic() + 60
        while query(postgres_url, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")[0][0]:
            assert time.monotonic() < deadline, "the outbox never emptied"
            time.sleep(0.05)  # waiting for the relay, not hiding a race
        deadline = time.monotonic() + 60
        while len(closes_recorded(postgres_url)) < len(LOCATIONS):
            assert time.monotonic() < deadline, f"the close did not run: {closes_recorded(postgres_url)}"
            time.sleep(0.05)  # waiting for the scheduler, not hiding a race
    finally:
        for screen in screens:
            screen.stopping.set()
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
    keys = {
        key
        for (key,) in query(postgres_url, "SELECT delivery_key FROM deliveries WHERE destination = 'pos2'")
    }
    assert set(receiver.keys()) == keys and len(keys) == len(stored)

    # Each screen, on a process the kitchen does not run in, showed every order's new ticket once
    # and the station's events once each, in the kitchen's order (no number repeated or skipped).
    for screen in screens:
        numbers = [seq for seq, _ in screen.events]
        assert numbers == list(range(1, len(numbers) + 1)), "a screen's events repeat, skip or reorder"
        first_seen = [order_id for order_id in dict.fromkeys(order_id for _, order_id in screen.events)]
        assert set(first_seen) >= set(acknowledged) and len(first_seen) == len(set(first_seen))
    figures["screen_reconnects"] = float(sum(screen.reconnects for screen in screens))

    # The nightly close ran once at each location, for the business date its due time closes,
    # though the process that ran the scheduler was killed as it came due: one transfer in the
    # ledger and one file in the office's folder per location.
    closed = closes_recorded(postgres_url)
    day = closed_date(close_due)
    assert [(loc, on, outcome) for loc, on, outcome, _ in closed] == [
        (loc, day.isoformat(), "succeeded") for loc in LOCATIONS
    ], closed
    written = sorted(p.name for p in office_folder(tmp_path).iterdir() if not p.name.startswith("."))
    assert written == sorted(name for *_, name in closed) and len(set(written)) == len(LOCATIONS)

    for name, seconds in figures.items():
        record_property(name, round(seconds, 3))
    print("\nrecovery:", ", ".join(f"{name} = {seconds:.2f}" for name, seconds in figures.items()))
