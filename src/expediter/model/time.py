"""Time rules: timestamps are timezone-aware; the business date comes from the location's clock.

A restaurant's trading day does not end at midnight UTC, nor at local midnight: a bar that closes at
02:00 books those sales on the day that started the evening before. ``day_start`` (e.g. 04:00 local)
is the moment one business date becomes the next.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
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
    local = ts.astimezone(zone(timezone))
    if local.time() < day_start:
        return local.date() - timedelta(days=1)
    return local.date()


def business_day_bounds(
    business_date: date, timezone: str, day_start: time = DEFAULT_DAY_START
) -> tuple[datetime, datetime]:
    """The [start, end) instants, in UTC, of ``business_date`` at a location.

    Computed on the local wall clock, so a DST change gives a 23- or 25-hour day.
    """
    tz = zone(timezone)
    start = datetime.combine(business_date, day_start, tzinfo=tz)
    end = datetime.combine(business_date + timedelta(days=1), day_start, tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def parse_day_start(text: str) -> time:
    """``"04:00"`` → ``time(4, 0)``; ``ValueError`` with the expected form otherwise."""
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"day start {text!r} is not HH:MM (e.g. '04:00')") from exc


AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timestamp that must carry a UTC offset; msgspec rejects a naive one with its JSON path."""
