"""The canonical model's bounds: what msgspec checks while decoding, and what is checked after."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import msgspec
import pytest

from expediter.errors import RejectedInput
from expediter.model.bounds import FUTURE, MAX_AMOUNT, PAST
from expediter.model.labor import TimePunch, refuse_implausible_punch
from expediter.model.money import Money
from expediter.model.order import Line, Modifier, Order, Tax, refuse_implausible_order
from tests.clocks import SUITE_STARTED

NOW = SUITE_STARTED


def order(**changes: object) -> Order:
    line = Line(id="1", name="Burger", quantity=Decimal(2), unit_price=Money(1250))
    base = Order(id="o-1", location_id="L1", opened_at=NOW - timedelta(hours=1), lines=[line])
    return msgspec.structs.replace(base, **changes)


def line(**changes: object) -> Line:
    return msgspec.structs.replace(order().lines[0], **changes)


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "1E+400", "-1", "1000001"])
def test_a_quantity_must_be_a_finite_number_in_range(value: str) -> None:
    with pytest.raises(RejectedInput) as caught:
        refuse_implausible_order(order(lines=[line(), line(quantity=Decimal(value))]))
    assert caught.value.where == "$.lines[1].quantity"
    assert caught.value.fix


def test_quantities_that_a_kitchen_sells_pass() -> None:
    for value in ("0", "0.5", "1", "12", "2.25", "1000000"):
        refuse_implausible_order(order(lines=[line(quantity=Decimal(value))]), NOW)


def test_a_nested_modifier_is_named_by_its_whole_path() -> None:
    inner = Modifier(name="Extra", quantity=Decimal("NaN"))
    outer = Modifier(name="Side", modifiers=[Modifier(name="Fries"), inner])
    with pytest.raises(RejectedInput) as caught:
        refuse_implausible_order(order(lines=[line(modifiers=[Modifier(name="No onions"), outer])]))
    assert caught.value.where == "$.lines[0].modifiers[1].modifiers[1].quantity"


def test_negative_prices_and_rates_out_of_range_are_refused() -> None:
    with pytest.raises(RejectedInput) as price:
        refuse_implausible_order(order(lines=[line(unit_price=Money(-1))]))
    assert price.value.where == "$.lines[0].unit_price.amount" and "discount" in price.value.fix
    with pytest.raises(RejectedInput) as rate:
        refuse_implausible_order(order(taxes=[Tax(name="tax", amount=Money(10), rate=Decimal("8.875"))]))
    assert rate.value.where == "$.taxes[0].rate"


def test_times_are_checked_against_the_clock_only_when_one_is_given() -> None:
    refuse_implausible_order(order(opened_at=NOW - PAST + timedelta(minutes=1)), NOW)
    refuse_implausible_order(order(promised_at=NOW + FUTURE - timedelta(minutes=1)), NOW)
    ancient = order(opened_at=NOW - PAST - timedelta(days=1))
    refuse_implausible_order(ancient)  # a mapping without a clock: its own times are its own
    with pytest.raises(RejectedInput) as caught:
        refuse_implausible_order(ancient, NOW)
    assert caught.value.where == "$.opened_at" and "ten years before" in caught.value.message
    with pytest.raises(RejectedInput) as ahead:
        refuse_implausible_order(order(closed_at=NOW + FUTURE + timedelta(days=1)), NOW)
    assert ahead.value.where == "$.closed_at" and "a year after" in ahead.value.message


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (b'{"amount": 1000000000000000000000000000000}', "$.amount"),
        (b'{"amount": -1000000000000001}', "$.amount"),
    ],
)
def test_amounts_beyond_the_bound_do_not_decode(payload: bytes, where: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=where.replace("$", r"\$")):
        msgspec.json.decode(payload, type=Money)
    assert msgspec.json.decode(b'{"amount": %d}' % MAX_AMOUNT, type=Money).amount == MAX_AMOUNT


def test_a_punch_with_a_negative_wage_or_a_clock_in_from_1970_is_refused() -> None:
    punch = TimePunch(id="p", employee_id="E", location_id="L1", job_code="cook", clock_in=NOW)
    refuse_implausible_punch(punch, NOW)
    with pytest.raises(RejectedInput) as wage:
        refuse_implausible_punch(msgspec.structs.replace(punch, hourly_wage=Money(-100)), NOW)
    assert wage.value.where == "$.hourly_wage.amount"
    epoch = msgspec.json.decode(b'"1970-01-01T00:00:00+00:00"', type=type(NOW))
    with pytest.raises(RejectedInput) as clock_in:
        refuse_implausible_punch(msgspec.structs.replace(punch, clock_in=epoch), NOW)
    assert clock_in.value.where == "$.clock_in"
