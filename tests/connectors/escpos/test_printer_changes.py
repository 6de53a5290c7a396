"""Change slips print exactly what a version changed; add-ons print late; slips show local time."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from expediter.catalog.schema import Catalog, Mappings, System, SystemKind
from expediter.connectors.escpos.connector import make_sink
from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import ModifierAction, Order, OrderState, Payment, TenderType
from expediter.operations.kitchen import Kitchen
from expediter.operations.kitchen.freshness import is_stale
from expediter.plugin.base import ConnectorContext
from expediter.sim.printer import VirtualPrinter
from tests.connectors.escpos.test_printer_sink import sink_for
from tests.connectors.kds.test_sink import outbound
from tests.operations.kitchen.helpers import (
    CATEGORIES,
    OPENED,
    line,
    make_kitchen,
    mod,
    order,
    with_kitchen,
)


def item_rows(text: str) -> list[str]:
    return [row for row in text.splitlines() if " x " in row]


def test_changed_quantity_prints_void_and_add_of_that_item_only(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen) -> list[str]:
        async with VirtualPrinter() as printer:
            sink = sink_for(printer.port, kitchen=kitchen)
            fries = line("l-2", "Fries")
            await sink.deliver(outbound(order(lines=[line("l-1", "Burger"), fries])))
            await sink.deliver(outbound(order(lines=[line("l-1", "Burger", qty=2), fries], version=2)))
            return [t.text for t in await printer.wait_for(2)]

    first, second = with_kitchen(make_kitchen(tmp_path), scenario)
    assert item_rows(first) == ["1 x Burger", "1 x Fries"]
    assert item_rows(second) == ["VOID 1 x Burger", "ADD 2 x Burger"]


def test_two_changes_in_a_row_each_print_only_their_own_change(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen) -> list[str]:
        async with VirtualPrinter() as printer:
            sink = sink_for(printer.port, kitchen=kitchen)
            fries, shake = line("l-2", "Fries"), line("l-3", "Shake")
            await sink.deliver(outbound(order(lines=[line("l-1", "Burger"), fries, shake])))
            v2 = [line("l-1", "Burger", qty=2), fries, shake]
            await sink.deliver(outbound(order(lines=v2, version=2)))
            v3 = [line("l-1", "Burger", qty=2), fries, line("l-3", "Shake", voided=True)]
            await sink.deliver(outbound(order(lines=v3, version=3)))
            return [t.text for t in await printer.wait_for(3)]

    *_, third = with_kitchen(make_kitchen(tmp_path), scenario)
    assert item_rows(third) == ["VOID 1 x Shake"]


def test_dessert_added_45_minutes_into_the_table_prints(tmp_path: Path, clock: ManualClock) -> None:
    async def scenario(kitchen: Kitchen) -> list[str]:
        async with VirtualPrinter() as printer:
            sink = sink_for(printer.port, kitchen=kitchen, max_age_minutes=30)
            burger = line("l-1", "Burger")
            await sink.deliver(outbound(order(lines=[burger])))
            clock.set(OPENED + timedelta(minutes=45))
            dessert = line("l-2", "Brownie", stations=["grill"])
            receipt = await sink.deliver(outbound(order(lines=[burger, dessert], version=2)))
            assert receipt.records == 1, receipt.remote_ref
            return [t.text for t in await printer.wait_for(2)]

    _, second = with_kitchen(make_kitchen(tmp_path), scenario)
    assert item_rows(second) == ["ADD 1 x Brownie"]


def test_pre_order_placed_yesterday_prints_when_it_is_due(clock: ManualClock) -> None:
    async def scenario() -> int:
        async with VirtualPrinter() as printer:
            sink = sink_for(printer.port, max_age_minutes=30)
            clock.set(OPENED + timedelta(hours=20))
            due = OPENED + timedelta(hours=20, minutes=15)
            receipt = await sink.deliver(outbound(order(promised_at=due)))
            await printer.wait_for(1)
            return receipt.records

    assert asyncio.run(scenario()) == 1


def test_age_counts_from_the_newest_timestamp_on_the_order() -> None:
    limit = timedelta(minutes=30)
    now = OPENED + timedelta(hours=2)
    paid = Payment(id="p", tender=TenderType.CASH, amount=Money(100), created_at=now - timedelta(minutes=5))
    assert is_stale(order(), now, limit)
    assert not is_stale(order(payments=[paid]), now, limit)
    assert not is_stale(order(promised_at=now + timedelta(hours=1)), now, limit)
    assert is_stale(order(promised_at=now - timedelta(hours=1)), now, limit)
    assert not is_stale(order(closed_at=now - timedelta(minutes=1)), now, limit)


def test_slip_shows_the_opening_time_in_the_location_time_zone(clock: ManualClock) -> None:
    assert_slip_times(clock, order(), promised=None)


def test_slip_shows_the_pickup_time_and_a_removal_once(clock: ManualClock) -> None:
    """A POS names the removal itself "No cheese": the slip says NO CHEESE, not NO NO CHEESE."""
    burger = line(
        "l-1",
        "Burger",
        modifiers=[mod("No cheese", ModifierAction.REMOVE), mod("onions", ModifierAction.REMOVE)],
    )
    pickup = OPENED + timedelta(minutes=25)
    text = assert_slip_times(clock, order(lines=[burger], promised_at=pickup), promised=pickup)
    removals = [row.strip() for row in text.splitlines() if row.strip().startswith("NO ")]
    assert removals == ["NO CHEESE", "NO ONIONS"]


def assert_slip_times(clock: ManualClock, ticket_order: Order, promised: datetime | None) -> str:
    """The slip of ``ticket_order`` shows its opening (and pickup) time in New York's time zone."""

    async def scenario() -> str:
        async with VirtualPrinter() as printer:
            system = System(
                id="printer_grill",
                kind=SystemKind.PRINTER,
                connector="escpos",
                owner="Chef",
                settings={"host": "127.0.0.1", "port": printer.port, "station": "grill"},
            )
            catalog = Catalog(
                systems=[system],
                mappings=Mappings(stations=CATEGORIES),
                locations=[Location(id="loc-1", name="Uptown", timezone="America/New_York")],
            )
            sink = make_sink(ConnectorContext(catalog=catalog, system=system))
            clock.set(OPENED + timedelta(minutes=1))
            await sink.deliver(outbound(ticket_order))
            return (await printer.wait_for(1))[0].text

    new_york = ZoneInfo("America/New_York")
    text = asyncio.run(scenario())
    assert f"Opened {OPENED.astimezone(new_york):%H:%M}" in text.splitlines()
    pickups = [row for row in text.splitlines() if row.startswith("PICKUP")]
    assert pickups == ([] if promised is None else [f"PICKUP {promised.astimezone(new_york):%H:%M}"])
    return text


def test_canceled_order_prints_every_line_as_void(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen) -> list[str]:
        async with VirtualPrinter() as printer:
            sink = sink_for(printer.port, kitchen=kitchen)
            lines = [line("l-1", "Burger"), line("l-2", "Fries")]
            unseen = await sink.deliver(outbound(order("o-2", lines=lines, state=OrderState.CANCELED)))
            assert unseen.records == 0
            await sink.deliver(outbound(order(lines=lines)))
            canceled = await sink.deliver(outbound(order(lines=lines, version=2, state=OrderState.CANCELED)))
            assert canceled.records == 1, canceled.remote_ref
            return [t.text for t in await printer.wait_for(2)]

    _, second = with_kitchen(make_kitchen(tmp_path), scenario)
    assert item_rows(second) == ["VOID 1 x Burger", "VOID 1 x Fries"]
