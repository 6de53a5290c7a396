"""A location is one restaurant: its own clock, its own business day."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from expediter.model.labor import LaborSettings
from expediter.model.time import business_date_at, parse_day_start


class Location(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One restaurant. ``day_start`` is local ``HH:MM``: sales before it belong to the day before."""

    id: str
    name: str
    timezone: str
    day_start: str = "04:00"
    currency: str = "USD"
    labor: LaborSettings = msgspec.field(default_factory=LaborSettings)
    """Workday, workweek, overtime rules and wages (``[locations.labor]``)."""

    def business_date_for(self, ts: datetime) -> date:
        return business_date_at(ts, self.timezone, parse_day_start(self.day_start))
