"""What a plausible canonical record looks like: ids, counts, amounts, quantities and times.

msgspec checks what a type can say (``Meta`` constraints: an id of 1 to 128 characters, a version
of 1 or more, an amount within ±10^15 minor units) while it decodes, and names the JSON path of
the first value out of bounds. What a type cannot say is checked here after decoding, with the
same kind of path: a quantity that is a finite decimal (``"NaN"``, ``Infinity`` and ``1e400``
decode as decimals), a price that is not negative, a time within :data:`PAST` and :data:`FUTURE`
of the hub's clock. Each refusal is a :class:`~expediter.errors.RejectedInput` saying what, where
and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Annotated

import msgspec

from expediter.errors import RejectedInput

ID_MAX_LENGTH = 128
"""POS and marketplace ids are UUIDs or shorter; a longer "id" is a payload in the wrong field."""
MAX_AMOUNT = 10**15
"""Minor units (cents): ten trillion dollars, and still exact in a JavaScript number (2^53)."""
MAX_VERSION = 2**53
"""Versions count up, and some products use a millisecond timestamp as one: both fit."""
MAX_COUNT = 10_000
"""Guests at a table, a seat or course number."""
MAX_QUANTITY = Decimal(1_000_000)
PAST = timedelta(days=3653)
"""Ten years: older than any business day a restaurant still backfills."""
FUTURE = timedelta(days=366)
"""A year ahead: a catering order's pickup time, never a clock set to 9999."""

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=ID_MAX_LENGTH)]
Version = Annotated[int, msgspec.Meta(ge=1, le=MAX_VERSION)]
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
Amount = Annotated[int, msgspec.Meta(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]

_ZERO = Decimal(0)
_ONE = Decimal(1)


@lru_cache(maxsize=8)
def _window_on(today: date) -> Window:
    """One window a day (by the hub's clock, UTC): the hot path builds none."""
    return Window(today - PAST, today + FUTURE)


def quantity_ok(value: Decimal) -> bool:
    """A quantity is a finite decimal from 0 to :data:`MAX_QUANTITY`."""
    return value.is_finite() and _ZERO <= value <= MAX_QUANTITY


def rate_ok(value: Decimal) -> bool:
    """A tax rate is a fraction from 0 to 1 (8.875 % is 0.08875)."""
    return value.is_finite() and _ZERO <= value <= _ONE


@dataclass(frozen=True, slots=True)
class Window:
    """The days a record's times may fall on: from :data:`PAST` before to :data:`FUTURE` after the
    hub's clock, to the day (the date a time shows at its own UTC offset). Comparing dates rather
    than instants: two timestamps at different offsets take microseconds to compare, two dates a
    tenth of that, and a window of years needs no finer edge."""

    earliest: date
    latest: date

    @classmethod
    def around(cls, now: datetime) -> Window:
        return _window_on(now.date())

    def holds(self, ts: datetime) -> bool:
        return self.earliest <= ts.date() <= self.latest


# The refusals are built only once a check failed: the paths cost nothing on the way through.


def bad_quantity(value: Decimal, where: str) -> RejectedInput:
    return RejectedInput(
        f"quantity {value} is not a number from 0 to {MAX_QUANTITY:,}",
        where=where,
        fix='send the quantity as a plain decimal, e.g. "2" or "0.5"',
    )


def bad_rate(value: Decimal, where: str) -> RejectedInput:
    return RejectedInput(
        f"rate {value} is not a fraction from 0 to 1",
        where=where,
        fix='send the rate as a fraction: 8.875 % is "0.08875"',
    )


def negative_amount(amount: int, where: str, what: str = "price") -> RejectedInput:
    hint = "; a price cut is a discount, money back is a refund" if what == "price" else ""
    return RejectedInput(
        f"{what} {amount} (minor units) is negative",
        where=where,
        fix=f"send a {what} of zero or more{hint}",
    )


def implausible_time(ts: datetime, window: Window, where: str) -> RejectedInput:
    side = "more than ten years before" if ts.date() < window.earliest else "more than a year after"
    return RejectedInput(
        f"time {ts.isoformat()} is {side} the hub's clock (from {window.earliest} to {window.latest})",
        where=where,
        fix="send the real time with its UTC offset; check the clock of the system that sent it",
    )


def encoded_within_bounds(record: msgspec.Struct, where_from: str = "") -> bytes:
    """``record`` (an order or punch a connector built, never decoded) encoded, once it holds to
    the bounds its type declares (msgspec checks those only while decoding, so it is decoded
    back). ``RejectedInput`` naming the path otherwise; ``where_from`` prefixes the message."""
    payload = msgspec.json.encode(record)
    try:
        msgspec.json.decode(payload, type=type(record))
    except msgspec.ValidationError as exc:
        text, _, path = str(exc).partition(" - at `")
        raise RejectedInput(
            f"{where_from}{text}",
            where=path.rstrip("`") or "$",
            fix="correct the record in the system that sent it",
        ) from None
    return payload
