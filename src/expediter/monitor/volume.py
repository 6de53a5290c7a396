"""Is this hour's volume normal? The last hour held against the same hour of the same weekday.

"No orders at 19:00 on a Friday" is an outage nobody else reports: the POS is up, its webhooks are
simply not arriving. The hub counts the messages an event flow received in the last hour at one
location and compares the count with the same local hour of the same weekday over the last
``volume_weeks`` weeks (local time, so a clock change does not shift the comparison). It says
something only when it has enough history — the flow was watched for all those weeks and that hour
normally sees at least :data:`MIN_NORMAL` messages — and only when the hour is far from normal:
under :data:`FAR_BELOW` of it, or over :data:`FAR_ABOVE` times it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from expediter.model.location import Location
from expediter.model.time import zone

HOUR = timedelta(hours=1)
MIN_NORMAL = 5
"""An hour that normally sees fewer messages than this is too quiet to judge."""
FAR_BELOW = 0.25
FAR_ABOVE = 4.0
VOLUME_KINDS = frozenset({"orders", "punches"})
"""Message kinds that carry a location and a business date (what the count needs)."""


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def business_dates(self, location: Location) -> list[date]:
        return sorted({location.business_date_for(self.start), location.business_date_for(self.end)})


def same_hour_windows(now: datetime, location: Location, weeks: int) -> tuple[Window, list[Window]]:
    """The last hour, and the same local hour of the same weekday 1..``weeks`` weeks ago."""
    local = now.astimezone(zone(location.timezone))
    naive = local.replace(tzinfo=None)
    history = []
    for week in range(1, weeks + 1):
        then = (naive - timedelta(weeks=week)).replace(tzinfo=local.tzinfo).astimezone(UTC)
        history.append(Window(then - HOUR, then))
    return Window(now - HOUR, now), history


class Verdict(StrEnum):
    LOW = "low"
    HIGH = "high"


def verdict(current: int, history: list[int]) -> Verdict | None:
    """``low`` or ``high`` when ``current`` is far from the median of ``history``; ``None`` when
    it is not, or when there is too little history to say."""
    if not history:
        return None
    normal = statistics.median(history)
    if normal < MIN_NORMAL:
        return None
    if current < normal * FAR_BELOW:
        return Verdict.LOW
    if current > normal * FAR_ABOVE:
        return Verdict.HIGH
    return None


def volume_text(
    flow_id: str, kind: str, location: Location, now: datetime, current: int, history: list[int]
) -> str:
    local = now.astimezone(zone(location.timezone))
    normal = statistics.median(history) if history else 0
    seen = ", ".join(str(count) for count in history)
    return (
        f"Flow {flow_id} at {location.name} ({location.id}): {current} {kind} in the hour to"
        f" {local:%H:%M}; on a {local:%A} at this hour it is normally {normal:g} (the last"
        f" {len(history)} weeks: {seen}). Check that the source is sending (is it up, are its"
        " webhooks reaching the hub?)."
    )
