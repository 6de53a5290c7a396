"""The journal of an export request, shared by the file exporters (beancount, xero, quickbooks).

A scheduled or manual journal run builds one entry per business date of the request from the
stored orders and the catalog's ``[mappings]``. A day with an unmapped category, tender or fixed
account is **held** in the journal queue (the hub's database, ``journal_queue``) and the run fails
with :class:`~expediter.operations.accounting.mapping.UnmappedAccounts`, whose message names the
TOML to add: nothing is written for that night, and the failed transfer in the ledger says why.

A later run that builds the day (the mapping was added, and the scheduler, ``expediter run`` or
``expediter journal release`` ran it again) marks the held entry released: from then on the
delivery of the file is the ledger's business, like any other file.

The journal flow's own settings (``[[flows]] settings``) choose two things a bookkeeper decides:
``by_dining_option = true`` splits revenue by dining option, and ``drawer_count`` says whether the
counted cash (``expediter drawer count``) is ``"optional"`` (posted as over/short when counted, the
default) or ``"required"`` (a day without a count is held until someone counts it).

A refund is booked on its own business date (:mod:`~expediter.operations.accounting.dating`): a
day's entry takes the orders sold that day plus the orders of earlier days refunded that day, from
``request.orders`` (the request's dates) and ``request.refunds`` (earlier days' orders whose refunds
fall in the request's dates; the engine looks back a bounded window, see
:func:`expediter.engine.jobs.refunded_orders_between`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

import msgspec
import structlog

from expediter.catalog.paths import data_dir
from expediter.catalog.schema import Catalog
from expediter.catalog.secrets import resolve_database
from expediter.errors import ConfigError
from expediter.formats.journal import JOURNAL_DATA, JournalFileExporter, RenderJournal, journal_file_name
from expediter.model import clock
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.operations.accounting.close import CloseStatus, close_journal
from expediter.operations.accounting.correction import correction_entry
from expediter.operations.accounting.dating import refunds_by_day, sale_date
from expediter.operations.accounting.journal import (
    DrawerCount,
    JournalEntry,
    JournalSettings,
    document_number,
    latest_versions,
)
from expediter.operations.accounting.mapping import UnmappedAccounts
from expediter.operations.accounting.queue import (
    JOURNAL_QUEUE_FILE,
    HeldEntry,
    HoldState,
    JournalQueue,
    StoredJournalQueue,
)
from expediter.plugin.base import ExportRequest
from expediter.storage.base import Storage
from expediter.storage.blocking import EXTRA_KEY as BLOCKING_STORAGE
from expediter.storage.blocking import BlockingStorage, blocking_storage
from expediter.storage.side_files import import_side_file

log = structlog.get_logger(__name__)

QUEUE_FILE = "journal-queue.db"
DRAWER_COUNTS = "drawer_counts"
"""``ExportRequest.extra`` key of the day's drawer counts (the engine reads them from the hub)."""
JOURNAL_CORRECTIONS = "journal_corrections"
"""``ExportRequest.extra`` key of a correction run: business date → (the entry posted, the
correction's number). The exporter then writes each night's correcting entry instead of the night."""


class DrawerPolicy(StrEnum):
    """The journal flow's ``drawer_count`` setting."""

    OPTIONAL = "optional"
    """Post cash over/short when the drawer was counted; without a count, cash stays as rung."""
    REQUIRED = "required"
    """Hold the day until the drawer is counted."""


class BooksSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What a journal flow's ``settings`` may say (other keys belong to the flow's connector)."""

    by_dining_option: bool = False
    drawer_count: DrawerPolicy = DrawerPolicy.OPTIONAL


class DrawerNotCounted(ConfigError):
    """The flow requires a counted drawer and the day has none: the day is held."""

    def __init__(self, location_id: str, business_date: date) -> None:
        self.document_number = document_number(location_id, business_date)
        super().__init__(
            f"journal {self.document_number} held: the cash drawer of {location_id} for {business_date}"
            f" is not counted; count it: expediter drawer count {location_id} {business_date} AMOUNT"
        )


def books_settings(request: ExportRequest) -> BooksSettings:
    """The journal flow's ``by_dining_option`` and ``drawer_count``; a bad value is a ConfigError."""
    flow = request.extra.get("flow")
    settings = getattr(flow, "settings", {}) or {}
    chosen = {key: settings[key] for key in ("by_dining_option", "drawer_count") if key in settings}
    try:
        return msgspec.convert(chosen, BooksSettings)
    except msgspec.ValidationError as exc:
        raise ConfigError(
            f"flow {getattr(flow, 'id', '?')}.settings: {exc}; by_dining_option is true or false,"
            ' drawer_count "optional" or "required"'
        ) from None


def drawer_counts(request: ExportRequest) -> dict[date, DrawerCount]:
    """The latest count of each business date of the request."""
    counts: dict[date, DrawerCount] = {}
    for count in request.extra.get(DRAWER_COUNTS, ()):
        counts[count.business_date] = count
    return counts


def journal_queue_path(catalog: Catalog) -> Path:
    """Where older versions kept the queue in a file of its own (copied into the database once)."""
    return data_dir(catalog) / QUEUE_FILE


@contextmanager
def open_journal_queue(
    catalog: Catalog, storage: BlockingStorage | None = None
) -> Iterator[StoredJournalQueue]:
    """The journal queue in the hub's database: through ``storage`` (the running hub's, which the
    engine hands an exporter), else the catalog's ``hub.database`` opened for the while."""
    if storage is not None:
        yield StoredJournalQueue(storage)
        return

    async def bring_in_old_file(opened: Storage) -> None:
        await import_side_file(opened, data_dir(catalog), JOURNAL_QUEUE_FILE)

    with blocking_storage(resolve_database(catalog.hub.database), bring_in_old_file) as opened:
        yield StoredJournalQueue(opened)


def business_dates(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _alert(kind: str, message: str) -> None:
    """The failed transfer raises the ledger's alert; this leaves the reason in the log too."""
    log.warning("journal held", kind=kind, reason=message.splitlines()[0])


def journal_for_day(
    orders: Iterable[Order],
    catalog: Catalog,
    location_id: str,
    business_date: date,
    queue: JournalQueue,
    *,
    drawer: DrawerCount | None = None,
    books: BooksSettings | None = None,
) -> JournalEntry:
    """The day's balanced entry, or hold it and raise :class:`UnmappedAccounts` (or
    :class:`DrawerNotCounted` when the flow requires a count and there is none).

    The catalog's location dates the refunds (an order of another day books only its refunds
    dated on ``business_date``)."""
    books = books or BooksSettings()
    if drawer is None and books.drawer_count is DrawerPolicy.REQUIRED:
        _hold_uncounted(queue, location_id, business_date)
    posted: list[JournalEntry] = []
    outcome = close_journal(
        orders,
        catalog.mappings,
        location_id=location_id,
        business_date=business_date,
        queue=queue,
        alert=_alert,
        post=posted.append,
        drawer=drawer,
        settings=JournalSettings(by_dining_option=books.by_dining_option),
        location=catalog.location(location_id),
    )
    if outcome.status is CloseStatus.HELD:
        held = outcome.held
        missing = held.missing if held is not None else []
        raise UnmappedAccounts(missing, document_number=outcome.document_number)
    entry = posted[0]
    _release_if_held(queue, entry)
    return entry


def _hold_uncounted(queue: JournalQueue, location_id: str, business_date: date) -> None:
    error = DrawerNotCounted(location_id, business_date)
    previous = queue.get(error.document_number)
    now = clock.now()
    queue.hold(
        HeldEntry(
            document_number=error.document_number,
            location_id=location_id,
            business_date=business_date,
            state=HoldState.HELD,
            reason=str(error),
            held_at=previous.held_at if previous else now,
            updated_at=now,
        )
    )
    _alert("journal_drawer_not_counted", str(error))
    raise error


def _release_if_held(queue: JournalQueue, entry: JournalEntry) -> None:
    """A day held earlier that now builds is no longer waiting for a mapping."""
    held = queue.get(entry.document_number)
    if held is not None and held.state is not HoldState.RELEASED:
        queue.resolve(entry.document_number, entry)
        queue.release(entry.document_number)
        log.info("held journal released", document=entry.document_number)


def orders_by_day(orders: Iterable[Order], location: Location) -> dict[date, list[Order]]:
    """Orders grouped by the business date of their sale (the hub's, else from the location's
    clock). Refunds on later days are not here: see :func:`closing_orders_by_day`."""
    by_day: dict[date, list[Order]] = {}
    for order in orders:
        by_day.setdefault(sale_date(order, location), []).append(order)
    return by_day


def closing_orders_by_day(request: ExportRequest) -> dict[date, list[Order]]:
    """What each business date of the request closes: the orders sold that day, plus the orders
    sold earlier (in the request or in ``request.refunds``) that were refunded that day. The
    journal and the sales summary book only the refunds of an earlier day's order."""
    return closing_orders([*request.orders(), *request.refunds()], request.location)


def closing_orders(orders: Iterable[Order], location: Location) -> dict[date, list[Order]]:
    """What each business date closes, from orders sold on it and earlier orders refunded on it."""
    latest = latest_versions(orders)
    by_day = orders_by_day(latest, location)
    for day, refunded in refunds_by_day(latest, location).items():
        by_day.setdefault(day, []).extend(refunded)
    return by_day


def journals_for_request(request: ExportRequest) -> list[JournalEntry]:
    """One entry per business date of the request; every unmapped day is held, then the first
    one's :class:`UnmappedAccounts` is raised (so nothing of the run is written)."""
    location = request.location
    by_day = closing_orders_by_day(request)
    books, counts = books_settings(request), drawer_counts(request)
    entries: list[JournalEntry] = []
    errors: list[ConfigError] = []
    with open_journal_queue(request.catalog, request.extra.get(BLOCKING_STORAGE)) as queue:
        for day in business_dates(request.start_date, request.end_date):
            try:
                entries.append(
                    journal_for_day(
                        by_day.get(day, []),
                        request.catalog,
                        location.id,
                        day,
                        queue,
                        drawer=counts.get(day),
                        books=books,
                    )
                )
            except (UnmappedAccounts, DrawerNotCounted) as error:
                errors.append(error)
    if errors:
        raise errors[0]
    return [_with_currency(entry, location.currency) for entry in entries]


def _with_currency(entry: JournalEntry, currency: str) -> JournalEntry:
    """An empty day has no order to take the currency from: use the location's."""
    if not entry.lines and entry.currency != currency:
        entry.currency = currency
    return entry


def request_journal(request: ExportRequest) -> list[JournalEntry]:
    """What a journal run writes: the request's entries, or on a correction run
    (``extra[JOURNAL_CORRECTIONS]``) each night's correcting entry. The engine hands it to the
    accounting connector as :attr:`~expediter.plugin.ExportRequest.journal`."""
    entries = journals_for_request(request)
    corrections = request.extra.get(JOURNAL_CORRECTIONS)
    if corrections is not None:
        entries = corrected(entries, corrections)
    return entries


def corrected(
    entries: list[JournalEntry], posted: dict[date, tuple[JournalEntry, int]]
) -> list[JournalEntry]:
    """Each night's correcting entry against what was posted (nights that did not change: none)."""
    found = []
    for entry in entries:
        if entry.business_date not in posted:
            continue
        before, number = posted[entry.business_date]
        correction = correction_entry(entry, before, number)
        if correction is not None:
            found.append(correction)
    return found


__all__ = [
    "DRAWER_COUNTS",
    "JOURNAL_CORRECTIONS",
    "JOURNAL_DATA",
    "QUEUE_FILE",
    "BooksSettings",
    "DrawerNotCounted",
    "DrawerPolicy",
    "JournalFileExporter",
    "RenderJournal",
    "books_settings",
    "business_dates",
    "closing_orders",
    "closing_orders_by_day",
    "corrected",
    "document_number",
    "drawer_counts",
    "journal_file_name",
    "journal_for_day",
    "journal_queue_path",
    "journals_for_request",
    "open_journal_queue",
    "orders_by_day",
    "request_journal",
]
