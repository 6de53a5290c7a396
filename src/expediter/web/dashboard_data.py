"""What the dashboard's panels read from the hub besides flow health: transfers, dead letters, the
night's journal, the kitchen and its printer, webhook signature failures.

Each reader is duck-typed on the hub (``getattr`` with a default) so a partly wired hub still
renders; the page shows what it can and says what is missing. Nothing here writes, except the
journal cache, which only remembers what it computed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import msgspec
import structlog

from expediter.engine import messages
from expediter.engine.deliveries import WaitingLane
from expediter.engine.hub import Hub, HubServices, SignatureFailure
from expediter.engine.jobs import orders_between, refunded_orders_between
from expediter.engine.schedule_time import closes_business_date
from expediter.errors import ExpediterError
from expediter.ledger import Transfer, TransferOutcome
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.operations.accounting.journal import JournalEntry, JournalLine, build_journal
from expediter.operations.accounting.mapping import UnmappedAccounts
from expediter.web.visibility import Sees, everything, flow_visible, located, system_visible

RECENT_TRANSFERS = 50
TRANSFERS_PAGE_LIMIT = 500
PRINTED_SHOWN = 10
ERROR_SHOWN = 90
DEAD_LETTERS_READ = 5000
"""Dead letters read per page view; past this the counts read ``5000+``."""
PRINTER_SERVICE = "virtual_printer"
log = structlog.get_logger("expediter.dashboard")


# -- transfers -------------------------------------------------------------------------------------


async def recent_transfers(
    hub: Hub,
    *,
    flow_id: str | None = None,
    outcome: TransferOutcome | None = None,
    limit: int = RECENT_TRANSFERS,
    sees: Sees = everything,
) -> list[Transfer]:
    """Newest first; empty when the hub has no ledger. ``sees``: only a person's locations."""
    ledger = getattr(hub, "ledger", None)
    if ledger is None:
        return []
    read = limit if sees is everything else limit * 5  # room for the other locations' rows
    transfers: list[Transfer] = await ledger.transfers(flow_id=flow_id, outcome=outcome, limit=read)
    if sees is not everything:
        shown = [t for t in transfers if flow_visible(hub.catalog, t.flow_id, sees)]
        transfers = located(shown, sees, lambda t: t.location_id)[:limit]
    return transfers


def outcome_from(text: str | None) -> TransferOutcome | None:
    """A query-string outcome; anything that is not one (``""``, a typo) means no filter."""
    try:
        return TransferOutcome(text) if text else None
    except ValueError:
        return None


def shorten(text: str, width: int = ERROR_SHOWN) -> str:
    """The first line, cut to ``width``: a table cell stays one line, the full text is the title."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if len(first) <= width and first == text.strip():
        return first
    return first[: width - 1].rstrip() + "…"


def duration_text(span: timedelta) -> str:
    """``340 ms``, ``4.2 s``, ``3 min 5 s``: the unit a person reads at a glance."""
    seconds = span.total_seconds()
    if seconds < 1:
        return f"{int(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s"


def size_text(count: int) -> str:
    for size, unit in ((1 << 20, "MB"), (1 << 10, "kB")):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


# -- dead letters ----------------------------------------------------------------------------------


class DeadLetterGroup(msgspec.Struct, kw_only=True):
    """One flow's dead letters, with who to call and what it breaks."""

    flow_id: str
    count: int
    last_error: str
    last_at: datetime
    destination: str = ""
    owner: str = ""
    impact: str = ""


async def dead_letter_groups(hub: Hub, sees: Sees = everything) -> tuple[list[DeadLetterGroup], bool]:
    """Per flow, most dead first; and whether the counts are only a lower bound.

    The counts come from the database's count per flow (the same one the dead-letter alert
    states); the last error and the time are read from at most :data:`DEAD_LETTERS_READ` letters.
    """
    deliveries = getattr(hub, "deliveries", None)
    if deliveries is None or not hasattr(deliveries, "dead_letters"):
        return [], False
    dead = await deliveries.dead_letters(limit=DEAD_LETTERS_READ)
    groups: dict[str, DeadLetterGroup] = {}
    for record in located(dead, sees, lambda d: d.location_id):
        group = groups.get(record.flow_id)
        if group is None:
            group = groups[record.flow_id] = _new_group(hub, record)
        group.count += 1
        if record.updated_at >= group.last_at:
            group.last_at, group.last_error = record.updated_at, record.last_error
    capped = len(dead) >= DEAD_LETTERS_READ
    counted = getattr(deliveries, "dead_by_flow", None)
    if counted is not None and sees is everything:  # the counts are of every location
        for flow_id, count in (await counted()).items():
            group = groups.get(flow_id) or groups.setdefault(flow_id, _unread_group(hub, flow_id))
            group.count = count
        capped = False
    ordered = sorted(groups.values(), key=lambda g: (-g.count, g.flow_id))
    return ordered, capped


def _unread_group(hub: Hub, flow_id: str) -> DeadLetterGroup:
    """A flow whose letters were beyond the read: its count is known, its last error is not."""
    flow = hub.catalog.flow(flow_id)
    return DeadLetterGroup(
        flow_id=flow_id,
        count=0,
        last_error="(older than the letters read)",
        last_at=datetime.min.replace(tzinfo=UTC),
        destination=flow.to if flow else "",
        owner=flow.owner if flow else "",
        impact=flow.impact if flow else "",
    )


def _new_group(hub: Hub, record: Any) -> DeadLetterGroup:
    flow = hub.catalog.flow(record.flow_id)
    return DeadLetterGroup(
        flow_id=record.flow_id,
        count=0,
        last_error=record.last_error,
        last_at=record.updated_at,
        destination=record.destination,
        owner=flow.owner if flow else "",
        impact=flow.impact if flow else "",
    )


async def waiting_lanes(hub: Hub, sees: Sees = everything) -> list[WaitingLane]:
    """Lanes held by a dead letter or waiting for a retry of their first delivery (of the
    locations the reader sees)."""
    deliveries = getattr(hub, "deliveries", None)
    reader = getattr(deliveries, "waiting_lanes", None)
    if reader is None:
        return []
    lanes: list[WaitingLane] = await reader()
    return list(located(lanes, sees, lambda lane: lane.location_id))


# -- last night's journal --------------------------------------------------------------------------


class JournalState(StrEnum):
    BALANCED = "balanced"
    HELD = "held"
    """A sales category, tender or discount has no account: nothing can be posted until it does."""
    EMPTY = "empty"
    FAILED = "failed"
    """The entry could not be built (or did not balance): a bug or bad data, never postable."""


class JournalPanel(msgspec.Struct, kw_only=True):
    location_id: str
    location_name: str
    business_date: date
    stored_orders: int
    state: JournalState
    document_number: str = ""
    debits: Money | None = None
    credits: Money | None = None
    lines: list[JournalLine] = []
    missing: list[str] = []
    fix: str = ""
    error: str = ""


async def stored_order_count(hub: Hub, location_id: str, business_date: date) -> int:
    """Every stored version counts: a re-sent check changes the count, so the cache key changes."""

    count: int = await hub.storage.read(
        lambda tx: messages.count_on(tx, "orders", location_id, business_date)
    )
    return count


class JournalCache:
    """The last panel per location, kept while (business date, stored orders) stay the same.

    Building a day's journal decodes every order; a wall screen refreshing every 15 s must not
    redo that while nothing changed. One entry per location keeps the cache bounded.
    """

    def __init__(self) -> None:
        self._panels: dict[str, tuple[tuple[date, int], JournalPanel]] = {}
        self.builds = 0
        """How many journals were actually built (a test reads it to see the cache work)."""

    async def panel(self, hub: Hub, location: Location, now: datetime) -> JournalPanel:
        business_date = closes_business_date(location, now)
        count = await stored_order_count(hub, location.id, business_date)
        cached = self._panels.get(location.id)
        if cached is not None and cached[0] == (business_date, count):
            return cached[1]
        panel = await self._build(hub, location, business_date, count)
        self._panels[location.id] = ((business_date, count), panel)
        return panel

    async def _build(self, hub: Hub, location: Location, business_date: date, count: int) -> JournalPanel:
        base = JournalPanel(
            location_id=location.id,
            location_name=location.name,
            business_date=business_date,
            stored_orders=count,
            state=JournalState.EMPTY,
        )
        if count == 0:
            return base
        self.builds += 1
        orders = await orders_between(hub, location.id, business_date, business_date)
        orders += await refunded_orders_between(hub, location, business_date, business_date)
        try:
            entry = await asyncio.to_thread(
                build_journal,
                orders,
                hub.catalog.mappings,
                location_id=location.id,
                business_date=business_date,
                currency=location.currency,
                location=location,
            )
        except UnmappedAccounts as exc:
            return _held(base, exc)
        except ExpediterError as exc:
            base.state, base.error = JournalState.FAILED, str(exc)
            return base
        return _posted(base, entry)


def _held(panel: JournalPanel, exc: UnmappedAccounts) -> JournalPanel:
    panel.state = JournalState.HELD
    panel.document_number = exc.document_number
    panel.missing = [f"{m.table.value}: {m.key}" for m in exc.missing]
    panel.fix = exc.fix()
    return panel


def _posted(panel: JournalPanel, entry: JournalEntry) -> JournalPanel:
    panel.debits, panel.credits = entry.total_debits(), entry.total_credits()
    panel.lines = entry.lines
    panel.document_number = entry.document_number
    panel.state = JournalState.BALANCED
    if panel.debits != panel.credits:  # build_journal refuses this; the badge checks anyway
        panel.state = JournalState.FAILED
        panel.error = f"debits {panel.debits.format()} ≠ credits {panel.credits.format()}"
    return panel


async def journal_panels(
    hub: Hub, cache: JournalCache, now: datetime, sees: Sees = everything
) -> list[JournalPanel]:
    """One panel per catalog location; none when the hub has no storage to read orders from."""
    if getattr(hub, "storage", None) is None:
        return []
    locations = located(hub.catalog.locations, sees, lambda location: location.id)
    return [await _panel_or_failure(hub, cache, location, now) for location in locations]


async def _panel_or_failure(hub: Hub, cache: JournalCache, location: Location, now: datetime) -> JournalPanel:
    """A journal that cannot be built is one failed panel, never a dashboard that does not load."""
    try:
        return await cache.panel(hub, location, now)
    except Exception as exc:
        log.exception("journal_panel_failed", location=location.id)
        return JournalPanel(
            location_id=location.id,
            location_name=location.name,
            business_date=closes_business_date(location, now),
            stored_orders=0,
            state=JournalState.FAILED,
            error=f"{type(exc).__name__}: {exc}",
        )


# -- kitchen, printer, signatures ------------------------------------------------------------------


class StationLoad(msgspec.Struct, kw_only=True):
    station: str
    open_tickets: int


def kitchen_status(hub: Hub) -> list[StationLoad] | None:
    """Open tickets per station, or ``None`` when the hub runs no kitchen."""
    kitchen = getattr(hub, "services", HubServices()).kitchen
    if kitchen is None:
        return None
    return [StationLoad(station=s, open_tickets=len(kitchen.tickets_for(s))) for s in kitchen.stations()]


class PrintedTicket(Protocol):
    """A ticket a printer kept: what it printed, and when."""

    @property
    def text(self) -> str: ...

    @property
    def received_at(self) -> datetime: ...


@runtime_checkable
class KeptTickets(Protocol):
    """A printer that keeps what it printed (the demo's virtual printer, in ``hub.services``):
    the dashboard shows its tickets without knowing the simulator."""

    host: str
    port: int

    @property
    def tickets(self) -> Sequence[PrintedTicket]: ...


def virtual_printer(hub: Hub) -> KeptTickets | None:
    printer = getattr(hub, "services", HubServices()).extra.get(PRINTER_SERVICE)
    return printer if isinstance(printer, KeptTickets) else None


def printed_tickets(printer: KeptTickets, count: int = PRINTED_SHOWN) -> list[PrintedTicket]:
    """The last ``count`` tickets, newest first."""
    return list(reversed(printer.tickets[-count:]))


def latest_signature_failures(hub: Hub) -> list[SignatureFailure]:
    """The newest failure per system, newest first: one line per webhook sender that is rejected."""
    kept: dict[str, Iterable[SignatureFailure]] = getattr(hub, "signature_failures", {}) or {}
    latest = [failures[-1] for failures in map(list, kept.values()) if failures]
    return sorted(latest, key=lambda f: f.at, reverse=True)


# -- everything the index page shows besides flow health ------------------------------------------


class Panels(msgspec.Struct, kw_only=True):
    transfers: list[Transfer] = []
    dead_letters: list[DeadLetterGroup] = []
    dead_letters_capped: bool = False
    waiting_lanes: list[WaitingLane] = []
    journals: list[JournalPanel] = []
    kitchen: list[StationLoad] | None = None
    has_printer: bool = False
    signature_failures: list[SignatureFailure] = []


async def read_panels(hub: Hub, journals: JournalCache, now: datetime, sees: Sees = everything) -> Panels:
    """The index page's panels; the second adapter beside ``dashboard.read_hub_state``.
    ``sees``: what a person limited to some locations may see (:mod:`expediter.web.visibility`)."""
    groups, capped = await dead_letter_groups(hub, sees)
    failures = [f for f in latest_signature_failures(hub) if system_visible(hub.catalog, f.system, sees)]
    return Panels(
        transfers=await recent_transfers(hub, sees=sees),
        dead_letters=[g for g in groups if flow_visible(hub.catalog, g.flow_id, sees)],
        dead_letters_capped=capped,
        waiting_lanes=await waiting_lanes(hub, sees),
        journals=await journal_panels(hub, journals, now, sees),
        kitchen=kitchen_status(hub),
        has_printer=virtual_printer(hub) is not None,
        signature_failures=failures,
    )
