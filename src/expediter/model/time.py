"""Time rules: timestamps are timezone-aware; the business date comes from the location's clock.

A restaurant's trading day does not end at midnight UTC, nor at local midnight: a bar that closes at
02:00 books those sales on the day that started the evening before. ``day_start`` (e.g. 04:00 local)
is the moment one business date becomes the next.

The rule on days the clock changes: a business day starts at the **first** moment the location's
wall clock shows ``day_start`` or later. When the clock falls back and ``day_start`` is shown twice
(01:30 on a November night in New York), the day starts at the first 01:30, and the repeated hour
stays on the new day. When the clock springs forward over ``day_start`` (02:30 does not exist on a
March night in New York), the day starts at the jump (02:00 EST, shown as 03:00 EDT). Both
:func:`business_date_at` and :func:`business_day_bounds` follow this one rule, so an order's date
and the day's bounds always agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

DEFAULT_DAY_START = time(4, 0)


class NaiveTimestamp(ValueError):
    """A timestamp without a UTC offset cannot be placed on a location's clock."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ``ValueError`` with a readable message when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as 'America/New_York'") from exc


def business_date_at(ts: datetime, timezone: str, day_start: time = DEFAULT_DAY_START) -> date:
    """The business date of ``ts`` for a location in ``timezone`` whose day starts at ``day_start``."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise NaiveTimestamp(f"timestamp {ts.isoformat()} has no UTC offset")
    day = ts.astimezone(zone(timezone)).date()
    if ts < day_started_at(day, timezone, day_start):
        return day - timedelta(days=1)
    return day


@lru_cache(maxsize=4096)
def day_started_at(day: date, timezone: str, day_start: time = DEFAULT_DAY_START) -> datetime:
    """The UTC instant business date ``day`` starts: the first moment the wall clock shows
    ``day_start`` or later (see the module's rule for clock changes)."""
    tz = zone(timezone)
    wall = datetime.combine(day, day_start)
    first = wall.replace(tzinfo=tz, fold=0)  # of a repeated time, the first
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
        return first.astimezone(UTC)
    # ``day_start`` falls in the hour the clock skips: the day starts at the jump, found between
    # the two readings of the skipped time (an offset change in at most a few hours).
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)  # read with the offset after the jump
    high = first.astimezone(UTC)  # read with the offset before it
    low, high = min(low, high), max(low, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def business_day_bounds(
    business_date: date, timezone: str, day_start: time = DEFAULT_DAY_START
) -> tuple[datetime, datetime]:
    """The [start, end) instants, in UTC, of ``business_date`` at a location.

    Computed on the local wall clock, so a DST change gives a 23- or 25-hour day.
    """
    start = day_started_at(business_date, timezone, day_start)
    return start, day_started_at(business_date + timedelta(days=1), timezone, day_start)


@lru_cache(maxsize=256)
def parse_day_start(text: str) -> time:
    """``"04:00"`` → ``time(4, 0)``; ``ValueError`` with the expected form otherwise."""
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"day start {text!r} is not HH:MM (e.g. '04:00')") from exc


AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timestamp that must carry a UTC offset; msgspec rejects a naive one with its JSON path."""
