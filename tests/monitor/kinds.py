"""Running hubs in which each alert kind beyond failure, lateness and dead letters fires, and the
steps that clear it again (shared by test_watch_kinds and test_alert_kinds).

Each hub runs under a :class:`ManualClock` that the steps move; the hub reads the same clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import msgspec

from expediter.catalog.schema import (
    AlertChannel,
    AlertRoute,
    Catalog,
    Flow,
    Level,
    System,
    SystemKind,
    Trigger,
)
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.canonical import canonical_facts
from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TransientError
from expediter.ledger import Direction, Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Order
from expediter.model.time import zone
from expediter.monitor.volume import same_hour_windows
from expediter.plugin.base import IncomingMessage, Outbound
from expediter.runtime import Runtime
from expediter.web.app import create_app
from tests.engine.helpers import Board, eventually
from tests.web.test_api import CONNECTORS

HISTORY = timedelta(weeks=5)
"""How long before the test's "now" the volume hub starts watching."""
DOWNTOWN = Location(id="L1", name="Downtown", timezone="America/New_York")
HARBOR = Location(id="L2", name="Harbor", timezone="America/Los_Angeles")


def flow(flow_id: str, source: str, destination: str, data: str = "orders", **extra: object) -> Flow:
    fields: dict[str, object] = {
        "id": flow_id,
        "from_": source,
        "to": destination,
        "data": data,
        "level": Level.REALTIME,
        "trigger": Trigger.EVENT,
        "owner": "Chef Andre",
        "contact": "chef@bistro.example",
        "description": f"{data} from {source} to {destination}",
        "impact": "Cooks do not see new orders.",
    }
    return Flow(**(fields | extra))  # type: ignore[arg-type]


REFUSING_CHANNEL = "http://127.0.0.1:1/alerts"
"""Nothing listens on port 1: a channel that refuses every alert."""


def kinds_catalog(folder: Path, channel_url: str = REFUSING_CHANNEL) -> Catalog:
    """A POS at two locations sending orders to a recording screen and a printer, an online shop
    with signed webhooks, the built-in kitchen, a vendor's file that must arrive by a time, and a
    flow to the office whose alerts go to the webhook at ``channel_url``."""
    return Catalog(
        hub=HubSettings(database=str(folder / "hub.db"), data_dir=str(folder / "data")),
        locations=[DOWNTOWN, HARBOR],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="test_source", owner="ops"),
            System(id="screens", kind=SystemKind.KDS, connector="test_sink", owner="ops"),
            System(
                id="printer", kind=SystemKind.PRINTER, connector="test_sink", owner="ops", offline_minutes=5
            ),
            System(id="shop", kind=SystemKind.ONLINE_ORDERING, connector="test_webhook", owner="ops"),
            System(id="kitchen", kind=SystemKind.KDS, connector="kds", owner="ops", offline_minutes=5),
            System(id="vendor", kind=SystemKind.VENDOR, connector="test_source", owner="ops"),
            System(id="office", kind=SystemKind.BACK_OFFICE, connector="test_sink", owner="ops"),
        ],
        flows=[
            flow("pos-screens", "pos", "screens"),
            flow("pos-printer", "pos", "printer", volume_weeks=0),
            flow("shop-screens", "shop", "screens", data="online.order"),
            flow("pos-kitchen", "pos", "kitchen", volume_weeks=0),
            flow(
                "vendor-invoices",
                "vendor",
                "office",
                data="invoices",
                level=Level.FILE,
                trigger=Trigger.FILE_ARRIVAL,
                transport="folder",
                expected_by=(clock.now() + timedelta(hours=1))
                .astimezone(zone(DOWNTOWN.timezone))
                .strftime("%H:%M"),
            ),
            flow("pos-office", "pos", "office", alert_route="office", volume_weeks=0),
        ],
        alert_channels=[AlertChannel(id="office-hook", kind="webhook", target=channel_url)],
        alert_routes=[AlertRoute(id="office", channels=["office-hook"])],
    )


@asynccontextmanager
async def running_hub(
    folder: Path, manual: ManualClock, channel_url: str = REFUSING_CHANNEL
) -> AsyncIterator[Runtime]:
    """The hub of :func:`kinds_catalog`, started at the clock's present time (the watch is run by
    the test, step by step)."""
    declared = kinds_catalog(folder, channel_url)
    hub = Hub(declared, connectors=CONNECTORS, retry=RetryPolicy(base=0.001, cap=0.001))
    hub.services.extra["board"] = Board()
    async with Runtime(declared, hub, schedule=False, watch=False) as runtime:
        yield runtime


def order_now(number: int, location: str) -> IncomingMessage:
    """A canonical order opened now (by the hub's clock), as the POS would post it."""
    order = Order(
        id=f"order-{location}-{number}",
        location_id=location,
        opened_at=clock.now(),
        lines=[Line(id="l1", name="Burger", quantity=Decimal(1), unit_price=Money(1250))],
    )
    return IncomingMessage(
        source_system="pos",
        kind="orders",
        idempotency_key=f"pos:{order.id}:1",
        payload=msgspec.json.encode(order),
        location_id=location,
    )


async def store_orders(runtime: Runtime, first: int, count: int, location: str) -> None:
    for number in range(first, first + count):
        message = order_now(number, location)
        ref, day = canonical_facts(message, runtime.catalog)
        await runtime.hub.inbox.accept(message, ref=ref, business_date=day)


# -- the steps that make each kind fire, and clear ---------------------------------------------------


async def a_quiet_friday_evening(runtime: Runtime, manual: ManualClock) -> None:
    """Ten orders each week at this hour for four weeks at Downtown, none this week. The hub
    started watching :data:`HISTORY` before; the clock goes to that "now"."""
    now = manual.now() + HISTORY
    _, earlier = same_hour_windows(now, DOWNTOWN, 4)
    for week, window in enumerate(earlier):
        manual.set(window.end - timedelta(minutes=30))
        await store_orders(runtime, week * 100, 10, "L1")
    manual.set(now)
    await runtime.watch_once()


async def orders_come_back(runtime: Runtime, manual: ManualClock) -> None:
    await store_orders(runtime, 1000, 10, "L1")
    await runtime.watch_once()


async def a_rotated_signing_key(runtime: Runtime, manual: ManualClock) -> None:
    """Five webhooks signed with an old key, through the hub's own HTTP door."""
    app = create_app(runtime.hub, manage_hub=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as client:
        for n in range(5):
            body = msgspec.json.encode({"event_id": f"e-{n}"})
            response = await client.post(
                "/api/v1/webhooks/shop", content=body, headers={"x-signature": "signed-with-the-old-key"}
            )
            assert response.status_code == 401, response.text
    await runtime.watch_once()


async def ten_quiet_minutes(runtime: Runtime, manual: ManualClock) -> None:
    manual.advance(11 * 60)
    await runtime.watch_once()


async def the_grill_screen_goes_dark(runtime: Runtime, manual: ManualClock) -> None:
    kitchen = runtime.hub.services.kitchen
    screen = kitchen.subscribe("grill")
    await runtime.watch_once()  # the hub sees the grill's screen
    kitchen.unsubscribe(screen)
    await runtime.watch_once()
    manual.advance(6 * 60)
    await runtime.watch_once()


async def the_grill_screen_is_back(runtime: Runtime, manual: ManualClock) -> None:
    runtime.hub.services.kitchen.subscribe("grill")
    await runtime.watch_once()


async def the_printer_is_unplugged(runtime: Runtime, manual: ManualClock) -> None:
    board: Board = runtime.hub.services.extra["board"]

    async def unplugged(item: Outbound) -> None:
        raise TransientError("connection refused by 10.0.0.40:9100")

    board.behaviour["printer"] = unplugged
    await store_orders(runtime, 1, 1, "L1")

    async def retrying() -> bool:
        return bool(await runtime.hub.deliveries.waiting_lanes())

    await eventually(retrying)
    manual.advance(6 * 60)
    await runtime.watch_once()


async def the_printer_is_back(runtime: Runtime, manual: ManualClock) -> None:
    board: Board = runtime.hub.services.extra["board"]
    board.behaviour.pop("printer")
    manual.advance(1)  # the next try is due

    async def printed() -> bool:
        return bool(board.delivered_to("printer"))

    await eventually(printed)
    await eventually(lambda: _no_waiting_lane(runtime))
    await runtime.watch_once()


async def _no_waiting_lane(runtime: Runtime) -> bool:
    return not await runtime.hub.deliveries.waiting_lanes()


async def no_invoice_by_its_time(runtime: Runtime, manual: ManualClock) -> None:
    """The vendor's file is expected an hour after the hub started; two hours later, none came."""
    manual.advance(2 * 3600)
    await runtime.watch_once()


async def the_invoice_arrives(runtime: Runtime, manual: ManualClock) -> None:
    """The file watcher records each file it stored as an incoming transfer."""
    now = clock.now()
    await runtime.hub.ledger.record(
        Transfer(
            flow_id="vendor-invoices",
            direction=Direction.IN,
            level=Level.FILE,
            transport="folder",
            file_name="invoice_0042.csv",
            started_at=now,
            finished_at=now,
            outcome=TransferOutcome.SUCCEEDED,
        )
    )
    await runtime.watch_once()


async def a_drill_whose_channel_refuses(runtime: Runtime, manual: ManualClock) -> None:
    """A drill of the office flow, whose only alert channel refuses (a scheduled drill runs the same)."""
    result = await runtime.drill("pos-office")
    assert not result.passed and "office-hook" in result.reason, result
