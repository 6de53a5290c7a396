"""Only what the line should still cook reaches it: history loaded into the hub stays off the screens."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import msgspec

from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Order, OrderState, Payment, Refund, TenderType
from expediter.model.time import day_started_at, parse_day_start
from expediter.operations.kitchen import Kitchen, KitchenSettings, KitchenStore
from expediter.storage import open_storage
from tests.clocks import SUITE_STARTED
from tests.operations.kitchen.helpers import CATEGORIES, kitchen_database, line, order, with_kitchen

DOWNTOWN = Location(id="loc-1", name="Downtown", timezone="America/New_York", day_start="04:00")


def kitchen_at(path: Path) -> Kitchen:
    return Kitchen(
        KitchenStore(open_storage(kitchen_database(path)), owned=True),
        settings=KitchenSettings(),
        category_stations=CATEGORIES,
        locations=[DOWNTOWN],
    )


def todays_start() -> datetime:
    """When the business day of the minute the suite started began at Downtown."""
    today = DOWNTOWN.business_date_for(SUITE_STARTED)
    return day_started_at(today, DOWNTOWN.timezone, parse_day_start(DOWNTOWN.day_start))


def paid(at: datetime) -> Payment:
    return Payment(id="p-1", tender=TenderType.CARD, amount=Money(1000), created_at=at)


def closed(order_id: str, opened: datetime, closed_at: datetime, **kw: object) -> Order:
    burger = [line("l-1", "Burger")]
    return order(
        order_id,
        burger,
        opened_at=opened,
        state=OrderState.COMPLETED,
        closed_at=closed_at,
        payments=[paid(closed_at)],
        **kw,
    )


def test_the_first_start_leaves_yesterdays_checks_off_the_screens(tmp_path: Path, clock: ManualClock) -> None:
    """The hub loads yesterday's day at its first start, five hours into today's business day."""
    start = todays_start()
    now = start + timedelta(hours=5)
    clock.set(now)
    late_dinner = closed("o-dinner", start - timedelta(hours=6), start - timedelta(hours=5))
    refunded = closed(
        "o-refunded",
        start - timedelta(hours=8),
        start - timedelta(hours=7),
        refunds=[Refund(id="r-1", amount=Money(500), created_at=now - timedelta(minutes=2))],
    )
    left_open = order("o-left-open", [line("l-1", "Burger")], opened_at=start - timedelta(hours=3))

    async def scenario(kitchen: Kitchen) -> None:
        for history in (late_dinner, refunded, left_open):
            assert await kitchen.receive(history) == [], history.id
        assert kitchen.tickets_for("expo") == []

    with_kitchen(kitchen_at(tmp_path), scenario)


def test_what_the_line_still_cooks_reaches_it(tmp_path: Path, clock: ManualClock) -> None:
    start = todays_start()
    now = start + timedelta(hours=5)
    clock.set(now)
    counter = closed("o-counter", now - timedelta(minutes=4), now - timedelta(minutes=3))
    bar_tab = order("o-tab", [line("l-1", "Burger")], opened_at=now - timedelta(hours=4))
    pre_order = closed(
        "o-pre",
        start - timedelta(hours=10),
        start - timedelta(hours=10),
        promised_at=now + timedelta(minutes=20),
    )

    async def scenario(kitchen: Kitchen) -> None:
        for fresh in (counter, bar_tab, pre_order):
            assert await kitchen.receive(fresh) != [], fresh.id
        assert len(kitchen.tickets_for("expo")) == 3

    with_kitchen(kitchen_at(tmp_path), scenario)


def test_an_order_rung_just_before_the_day_starts_still_cooks(tmp_path: Path, clock: ManualClock) -> None:
    start = todays_start()
    clock.set(start + timedelta(minutes=5))
    just_before = order("o-3am", [line("l-1", "Burger")], opened_at=start - timedelta(minutes=10))

    async def scenario(kitchen: Kitchen) -> None:
        assert await kitchen.receive(just_before) != []

    with_kitchen(kitchen_at(tmp_path), scenario)


def test_a_closing_version_of_an_order_the_line_has_still_applies(tmp_path: Path, clock: ManualClock) -> None:
    """A table's check closes an hour and a half after the kitchen got it, desserts added."""
    opened = clock()
    first = order("o-table", [line("l-1", "Burger")], opened_at=opened)
    desserts = [line("l-1", "Burger"), line("l-2", "Brownie")]
    last = msgspec.structs.replace(
        closed("o-table", opened, opened + timedelta(minutes=80), version=2), lines=desserts
    )

    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(first)
        clock.advance(90 * 60)
        changed = await kitchen.receive(last)
        [expo] = [t for t in changed if t.station == "expo"]
        assert [(i.name, i.added) for i in expo.items] == [("Burger", False), ("Brownie", True)]

    with_kitchen(kitchen_at(tmp_path), scenario)
