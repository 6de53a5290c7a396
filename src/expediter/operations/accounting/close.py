"""The journal part of the daily close: build, then post or hold, and let a manager fix a hold.

The engine calls :func:`close_journal` once per location and business date with the day's orders;
``post`` is whatever sends the entry on (a QuickBooks client, a file export); ``alert`` raises an
alert (``alert(kind, message)``). An entry with an unmapped key is never posted: it is held in the
:class:`~expediter.operations.accounting.queue.JournalQueue` with the TOML to add, and an alert
fires. After the mapping is added, :func:`resolve_held` rebuilds it and :func:`release_held`
posts it.

Pass ``location`` so a refund is booked on its own business date (see
:mod:`~expediter.operations.accounting.dating`): the day's orders then include earlier days' orders
refunded on the day, and their sales are not booked again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum

import msgspec

from expediter.catalog.schema import Mappings
from expediter.model import clock
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.operations.accounting.journal import (
    DrawerCount,
    JournalEntry,
    JournalSettings,
    build_journal,
    document_number,
)
from expediter.operations.accounting.mapping import UnmappedAccounts
from expediter.operations.accounting.queue import HeldEntry, HoldState, JournalQueue

Alert = Callable[[str, str], None]
Post = Callable[[JournalEntry], object]

ALERT_KIND = "journal_unmapped"


class CloseStatus(StrEnum):
    POSTED = "posted"
    HELD = "held"


class JournalOutcome(msgspec.Struct, kw_only=True):
    status: CloseStatus
    document_number: str
    entry: JournalEntry | None = None
    held: HeldEntry | None = None


def _hold(
    queue: JournalQueue, error: UnmappedAccounts, location_id: str, business_date: date, alert: Alert
) -> HeldEntry:
    now = clock.now()
    previous = queue.get(error.document_number)
    held = HeldEntry(
        document_number=error.document_number,
        location_id=location_id,
        business_date=business_date,
        state=HoldState.HELD,
        reason=str(error),
        missing=error.missing,
        held_at=previous.held_at if previous else now,
        updated_at=now,
    )
    queue.hold(held)
    alert(ALERT_KIND, str(error))
    return held


def close_journal(
    orders: Iterable[Order],
    mappings: Mappings,
    *,
    location_id: str,
    business_date: date,
    queue: JournalQueue,
    alert: Alert,
    post: Post,
    drawer: DrawerCount | None = None,
    settings: JournalSettings | None = None,
    location: Location | None = None,
) -> JournalOutcome:
    """Build the day's entry; post it, or hold it (and alert) when an account is unmapped."""
    try:
        entry = build_journal(
            orders,
            mappings,
            location_id=location_id,
            business_date=business_date,
            drawer=drawer,
            settings=settings,
            location=location,
        )
    except UnmappedAccounts as error:
        held = _hold(queue, error, location_id, business_date, alert)
        return JournalOutcome(status=CloseStatus.HELD, document_number=held.document_number, held=held)
    post(entry)
    return JournalOutcome(status=CloseStatus.POSTED, document_number=entry.document_number, entry=entry)


def resolve_held(
    queue: JournalQueue,
    held: HeldEntry,
    orders: Iterable[Order],
    mappings: Mappings,
    *,
    alert: Alert,
    drawer: DrawerCount | None = None,
    settings: JournalSettings | None = None,
    location: Location | None = None,
) -> HeldEntry:
    """Rebuild a held day with the current mappings; still unmapped → held again (and alerted)."""
    try:
        entry = build_journal(
            orders,
            mappings,
            location_id=held.location_id,
            business_date=held.business_date,
            drawer=drawer,
            settings=settings,
            location=location,
        )
    except UnmappedAccounts as error:
        return _hold(queue, error, held.location_id, held.business_date, alert)
    return queue.resolve(held.document_number, entry)


def release_held(queue: JournalQueue, location_id: str, business_date: date, post: Post) -> JournalEntry:
    """Post a resolved day and mark it released (``RejectedInput`` if it is not resolved)."""
    entry = queue.release(document_number(location_id, business_date))
    post(entry)
    return entry
