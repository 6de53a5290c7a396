from __future__ import annotations

from collections import Counter
from datetime import time, timedelta

import msgspec

from expediter.model.cards import refuse_card_numbers
from expediter.model.order import (
    DiningOption,
    LineKind,
    Order,
    OrderSource,
    OrderState,
    TenderType,
    order_totals,
)
from expediter.model.time import zone
from expediter.sim.config import CARD_BRANDS, SimConfig
from expediter.sim.day import DINNER_RUSH, LUNCH_RUSH, DaySimulation, iter_orders, simulate_day
from tests.sim.places import DAY, LOS_ANGELES, NEW_YORK


def _encode(orders: list[Order]) -> bytes:
    return b"\n".join(msgspec.json.encode(order) for order in orders)


def _local_minute(order: Order, timezone: str) -> int:
    local = order.opened_at.astimezone(zone(timezone))
    minute = local.hour * 60 + local.minute
    return minute + 24 * 60 if local.date() > DAY else minute


def _completed(day: DaySimulation) -> list[Order]:
    return [order for order in day.orders if order.state is OrderState.COMPLETED]


def test_same_seed_gives_identical_json_and_another_seed_does_not() -> None:
    first = simulate_day(LOS_ANGELES, DAY, seed=3, scale=0.2)
    again = simulate_day(LOS_ANGELES, DAY, seed=3, scale=0.2)
    other = simulate_day(LOS_ANGELES, DAY, seed=4, scale=0.2)
    assert _encode(first.orders) == _encode(again.orders)
    assert msgspec.json.encode(first.punches) == msgspec.json.encode(again.punches)
    assert _encode(first.orders) != _encode(other.orders)


def test_streaming_gives_the_same_orders_as_the_whole_day() -> None:
    streamed = list(iter_orders(NEW_YORK, DAY, seed=5, scale=0.1))
    assert _encode(streamed) == _encode(simulate_day(NEW_YORK, DAY, seed=5, scale=0.1).orders)


def test_scale_sets_the_number_of_checks(full_day: DaySimulation) -> None:
    first_versions = [order for order in full_day.orders if order.version == 1]
    assert len(first_versions) == 1500
    assert len(list(iter_orders(NEW_YORK, DAY, seed=1, scale=0.1))) == 150


def test_ids_are_stable_unique_and_in_opening_order(full_day: DaySimulation) -> None:
    keys = [(order.id, order.version) for order in full_day.orders]
    assert len(set(keys)) == len(keys)
    first_versions = [order for order in full_day.orders if order.version == 1]
    assert first_versions[41].id == "L001-20261127-C0042"
    opened = [order.opened_at for order in full_day.orders]
    assert opened == sorted(opened)


def test_rush_hours_hold_most_orders(full_day: DaySimulation) -> None:
    minutes = [_local_minute(order, NEW_YORK.timezone) for order in _completed(full_day)]
    lunch, dinner = range(*LUNCH_RUSH), range(*DINNER_RUSH)
    in_rush = [m for m in minutes if m in lunch or m in dinner]
    assert len(in_rush) / len(minutes) > 0.7
    # Rush minutes are far busier than the quiet afternoon (14:00-17:30).
    afternoon = [m for m in minutes if 14 * 60 <= m < 17 * 60 + 30]
    rush_minutes = (LUNCH_RUSH[1] - LUNCH_RUSH[0]) + (DINNER_RUSH[1] - DINNER_RUSH[0])
    assert len(in_rush) / rush_minutes > 3 * len(afternoon) / 210


def test_every_closed_check_is_paid_exactly_and_money_is_integer(full_day: DaySimulation) -> None:
    for order in _completed(full_day):
        totals = order_totals(order)
        assert totals.paid == totals.total, order.id
        assert totals.net_sales.amount >= 0
        assert totals.refunded.amount <= totals.paid.amount
        for payment in order.payments:
            assert type(payment.amount.amount) is int and type(payment.tip.amount) is int
            assert payment.amount.amount > 0 and payment.tip.amount >= 0
        tax = order.taxes[0]
        assert tax.rate is not None
        # round() on a Decimal rounds half to even, as the check must
        assert tax.amount.amount == round(totals.net_sales.amount * tax.rate)


def test_timestamps_are_aware_and_business_dates_follow_the_location_clock(full_day: DaySimulation) -> None:
    after_midnight = []
    for order in full_day.orders:
        stamps = [order.opened_at, order.closed_at, *(p.created_at for p in order.payments)]
        stamps += [refund.created_at for refund in order.refunds]
        assert all(ts is None or ts.utcoffset() is not None for ts in stamps)
        assert order.business_date == DAY == NEW_YORK.business_date_for(order.opened_at)
        local = order.opened_at.astimezone(zone(NEW_YORK.timezone))
        if local.date() == DAY + timedelta(days=1):
            assert local.time() < time(4, 0)
            after_midnight.append(order)
    assert after_midnight, "the bar should still be open after midnight"
    assert all(order.revenue_center == "bar" for order in after_midnight)


def test_every_kind_of_event_happens_in_a_day(full_day: DaySimulation) -> None:
    orders = _completed(full_day)
    seen: Counter[str] = Counter()
    for order in orders:
        tenders = [payment.tender for payment in order.payments]
        seen["void"] += any(line.voided and line.void_reason for line in order.lines)
        seen["comp"] += any(line.comp is not None and line.comp.reason for line in order.lines)
        seen["happy hour"] += any(d.name == "Happy Hour" for line in order.lines for d in line.discounts)
        seen["employee"] += any(d.reason == "employee meal" for d in order.discounts)
        seen["refund"] += bool(order.refunds)
        seen["card+cash"] += {TenderType.CARD, TenderType.CASH} <= set(tenders)
        seen["two cards"] += tenders.count(TenderType.CARD) == 2
        seen["gift card paid"] += TenderType.GIFT_CARD in tenders
        seen["gift card sold"] += any(line.kind is LineKind.GIFT_CARD for line in order.lines)
        seen["auto gratuity"] += any(charge.auto_gratuity for charge in order.service_charges)
        seen["card tip"] += any(p.tip.amount > 0 for p in order.payments)
        seen["takeout"] += order.dining_option is DiningOption.TAKEOUT
        pickup = order.dining_option is DiningOption.PICKUP
        seen["online pickup"] += order.source is OrderSource.ONLINE and pickup
        seen["marketplace"] += order.source is OrderSource.MARKETPLACE
        seen["nested modifier"] += any(m.modifiers for line in order.lines for m in line.modifiers)
        seen["removal"] += any(m.action == "remove" for line in order.lines for m in line.modifiers)
    missing = [kind for kind in _EXPECTED_EVENTS if seen[kind] == 0]
    assert not missing, f"never happened: {missing} ({dict(seen)})"


_EXPECTED_EVENTS = [
    "void",
    "comp",
    "happy hour",
    "employee",
    "refund",
    "card+cash",
    "two cards",
    "gift card paid",
    "gift card sold",
    "auto gratuity",
    "card tip",
    "takeout",
    "online pickup",
    "marketplace",
    "nested modifier",
    "removal",
]


def test_marketplace_orders_are_paid_by_the_marketplace_which_collects_the_tax(
    full_day: DaySimulation,
) -> None:
    for order in _completed(full_day):
        marketplace = order.source is OrderSource.MARKETPLACE
        assert all(tax.marketplace_facilitator == marketplace for tax in order.taxes), order.id
        if marketplace:
            (payment,) = order.payments
            assert payment.tender is TenderType.MARKETPLACE
            assert payment.marketplace in {"DoorDash", "Uber Eats", "Grubhub"}
            assert order.dining_option in {DiningOption.DELIVERY, DiningOption.PICKUP}


def test_cards_carry_a_brand_and_last_four_only(full_day: DaySimulation) -> None:
    for order in full_day.orders:
        refuse_card_numbers(msgspec.json.decode(msgspec.json.encode(order)))
        for payment in order.payments:
            if payment.tender is TenderType.CARD:
                assert payment.card_brand in CARD_BRANDS
                assert payment.last4 is not None and len(payment.last4) == 4 and payment.last4.isdigit()


def test_dine_in_checks_have_tables_seats_courses_and_auto_gratuity_for_large_parties(
    full_day: DaySimulation,
) -> None:
    tables = [o for o in _completed(full_day) if o.revenue_center == "dining_room"]
    assert tables
    for order in tables:
        assert order.table is not None and order.employee_id is not None
        seats = {line.seat for line in order.lines if line.seat is not None}
        assert seats <= set(range(1, order.guest_count + 1))
        large = order.guest_count >= 6 and order_totals(order).net_sales.amount > 0
        assert any(c.auto_gratuity for c in order.service_charges) == large, order.id
    courses = {line.course for order in tables for line in order.lines}
    assert {1, 2, 3} <= courses


def test_updated_versions_add_items_to_an_open_check(full_day: DaySimulation) -> None:
    versions: dict[str, list[Order]] = {}
    for order in full_day.orders:
        versions.setdefault(order.id, []).append(order)
    updated = [pair for pair in versions.values() if len(pair) == 2]
    assert updated
    for first, second in updated:
        assert (first.version, first.state, first.closed_at) == (1, OrderState.OPEN, None)
        assert (second.version, second.state) == (2, OrderState.COMPLETED)
        assert [line.id for line in second.lines[: len(first.lines)]] == [line.id for line in first.lines]
        assert len(second.lines) > len(first.lines)
        assert first.payments == []


def test_without_the_flag_every_check_is_a_single_completed_version() -> None:
    orders = list(iter_orders(NEW_YORK, DAY, seed=7, scale=0.3, config=SimConfig()))
    assert all(order.version == 1 and order.state is OrderState.COMPLETED for order in orders)
    assert all(order.closed_at is not None and order.closed_at > order.opened_at for order in orders)
