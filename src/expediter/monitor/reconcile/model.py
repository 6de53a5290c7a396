"""What a reconciliation says: per location, business date and check, do the systems agree, and if
not, which records differ and by how much.

Amounts are integers: minor units of the location's currency, seconds worked, or counts
(:class:`Unit`). A result is ``agree`` (green on the calendar), ``differ`` (red: the differences
list the records, an alert goes to the flow's owner) or ``pending`` (nothing to compare yet: the
night has not gone out, the pay period is open).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import msgspec


class CheckName(StrEnum):
    SALES = "sales"
    """POS net sales = journal revenue = the back-office sales summary, to the cent."""
    KITCHEN = "kitchen"
    """Orders received = kitchen tickets made, station by station, as the routing rules send them."""
    WEBHOOKS = "webhooks"
    """Orders received by webhook = orders the nightly poll found."""
    LABOR = "labor"
    """POS punches = the hours in the labor file and the payroll file."""
    ONLINE = "online"
    """Online orders sent to the POS = orders the POS confirmed."""
    DELIVERIES = "deliveries"
    """What the ledger says was delivered = what the destination holds."""


CHECK_TITLES: dict[CheckName, str] = {
    CheckName.SALES: "POS net sales = journal = back-office sales summary",
    CheckName.KITCHEN: "orders received = kitchen tickets made",
    CheckName.WEBHOOKS: "orders by webhook = orders found by the nightly poll",
    CheckName.LABOR: "POS punches = payroll hours",
    CheckName.ONLINE: "online orders sent = orders the POS confirmed",
    CheckName.DELIVERIES: "files delivered = files the destination holds",
}


class CheckState(StrEnum):
    AGREE = "agree"
    DIFFER = "differ"
    PENDING = "pending"
    """Nothing to compare yet (the night's files have not gone out, the pay period is open)."""


class Unit(StrEnum):
    MINOR = "minor"
    """Minor units of the result's currency (cents)."""
    SECONDS = "seconds"
    COUNT = "count"


class Difference(msgspec.Struct, frozen=True, kw_only=True):
    """One record that differs: its id, what is wrong in plain words, and each system's value."""

    record: str
    """An order, punch or ticket id, or a file name."""
    problem: str
    values: dict[str, int] = {}
    """System (``pos``, ``journal``, ``back_office``, ``kitchen``, ...) → its amount."""


class CheckResult(msgspec.Struct, kw_only=True):
    check: CheckName
    location_id: str
    business_date: date
    state: CheckState
    summary: str
    flow_id: str = ""
    """The flow whose owner hears about a difference (its alert route)."""
    unit: Unit = Unit.COUNT
    currency: str = ""
    totals: dict[str, int] = {}
    """System → its total for the day, in ``unit``."""
    differences: list[Difference] = []
    notes: list[str] = []
    """What agrees but is worth knowing (orders the webhooks missed, which the poll stored)."""
    checked_at: datetime | None = None
    differs_since: datetime | None = None
    """When this check first differed for this day (kept across re-runs until it agrees)."""

    @property
    def key(self) -> tuple[str, date, CheckName]:
        return (self.location_id, self.business_date, self.check)
