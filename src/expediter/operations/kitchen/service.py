"""The ``Kitchen`` service: orders in, tickets on screens, status and 86 back out.

The lead wires one instance into the hub (``hub.services.kitchen`` and
``hub.services.availability``) and starts / stops it with the hub. Every change is written to the
:class:`~expediter.operations.kitchen.store.KitchenStore` (tickets plus a numbered event per station)
*before* subscribed screens hear about it, so a screen that reconnects catches up from the log.

When a whole order becomes ready (every station ticket bumped) the kitchen emits one
``ticket_status`` message (idempotency key ``kds:<order_id>:ready:<n>``); an 86 emits an
``availability`` message. Both go through the ``emit`` callable (the hub's ``inbox.accept``).

Deciding what an action changes is atomic: the kitchen reads its memory (and, for an order that
left memory, the database), decides, updates memory and queues the write with no other decision
in between. Reading the database takes an ``await`` (the hub's storage reads on its own threads,
on SQLite and PostgreSQL alike), so decisions are serialized by one asyncio lock per kitchen
(:attr:`Kitchen._deciding`), held from the read to the queued write and never across the commit.
The lock is almost never waited for: a live order is in memory, and memory knows which orders the
database holds (:attr:`TicketMemory.known`), so a new order (most of what arrives) is decided
without reading anything; only an order that left memory is read back. Actions still share one
commit (group commit) while the next ones are decided.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import structlog

from expediter.catalog.schema import Catalog
from expediter.errors import RejectedInput, TransientError
from expediter.model import clock
from expediter.model.kitchen import CourseMode, KitchenSettings, StationTiming, menu_station_map
from expediter.model.location import Location
from expediter.model.menu import MenuItem
from expediter.model.order import Order, OrderState
from expediter.operations.kitchen import tickets as tk
from expediter.operations.kitchen.courses import courses_of, next_held_course
from expediter.operations.kitchen.feed import Subscription
from expediter.operations.kitchen.freshness import first_sight_skip, is_stale
from expediter.operations.kitchen.memory import TicketMemory
from expediter.operations.kitchen.routing import EXPO, RoutingRules, TicketItem, route_order
from expediter.operations.kitchen.store import (
    Availability,
    Changes,
    EventKind,
    GroupCommitter,
    KitchenEvent,
    KitchenStore,
    OrderRecord,
)
from expediter.operations.kitchen.tickets import Ticket
from expediter.plugin.base import IncomingMessage

log = structlog.get_logger(__name__)

Emit = Callable[[IncomingMessage], Awaitable[Any]]
Decided = tuple[list["TicketStatus"], "asyncio.Future[list[KitchenEvent]]"]
"""What a decided action still waits for: the statuses it makes, and its queued write."""
LET_GO_EVERY = timedelta(seconds=1)
"""How often the kitchen looks for finished orders that may leave memory (cheap, but not free)."""
PRUNE_EVERY = timedelta(hours=1)
"""How often the running kitchen drops from the database what is older than ``keep_hours``."""


class TicketStatus(msgspec.Struct, kw_only=True):
    """The ``ticket_status`` payload: the whole order is ready at the pass."""

    order_id: str
    location_id: str
    status: str
    n: int
    ticket_id: str
    stations: list[str]
    at: datetime
    source_system: str | None = None
    """The system the order came from; status sinks act only on their own system's orders."""
    external_id: str | None = None
    """The order's id in that system (what the POS or marketplace knows it by)."""


class AvailabilityChange(msgspec.Struct, kw_only=True):
    """The ``availability`` payload (an 86 or its end)."""

    location_id: str
    key: str
    """The PLU or item id the item was 86'd by."""
    available: bool
    at: datetime
    plu: str | None = None
    """``key`` again, under the name the online-ordering payload uses."""


class Kitchen:
    """Routing, tickets, screens' live feed, course firing, status back and 86, in one service."""

    def __init__(
        self,
        store: KitchenStore,
        *,
        system_id: str = "kds",
        emit: Emit | None = None,
        settings: KitchenSettings | None = None,
        category_stations: dict[str, list[str]] | None = None,
        plu_stations: dict[str, list[str]] | None = None,
        locations: list[Location] | None = None,
    ) -> None:
        self.store = store
        self.locations = {location.id: location for location in locations or []}
        """By id: the time zone and day start that say which business day an order belongs to."""
        self.system_id = system_id
        self.emit = emit
        self.settings = settings or KitchenSettings()
        self.rules = RoutingRules(
            category_stations=dict(category_stations or {}),
            plu_stations=dict(plu_stations or {}),
            default_station=self.settings.default_station,
            menu_stations={},
        )
        self._committer = GroupCommitter(store, self._publish_all)
        self._shown: dict[str, dict[str, Ticket]] = {}
        """Per station, the open tickets as the screens were last told (what a snapshot shows)."""
        self._memory = TicketMemory(store)
        self._pruned_at: datetime | None = None
        self._next_let_go = datetime.min.replace(tzinfo=UTC)
        self._pruning: asyncio.Task[int] | None = None
        self._available: dict[tuple[str, str], bool] = {}
        self._menu: dict[str, dict[str, MenuItem]] = {}
        """Location → item id → the hub's menu item, as :meth:`use_menu` was told."""
        self._subscribers: dict[str, set[Subscription]] = {}
        self._feeds_open = True
        self._published: dict[str, int] = {}
        self._deciding = asyncio.Lock()
        """Held while an action reads and decides (see the module's docstring)."""
        self._reloaded_after = 0
        """The count of failed writes when memory was last read back from the disk."""
        self._reading = asyncio.Lock()
        self._copy_loaded = False
        """A copy that only reads was loaded whole once (:meth:`read_shared`)."""

    @classmethod
    def from_catalog(
        cls, catalog: Catalog, store: KitchenStore, *, emit: Emit | None = None, system_id: str | None = None
    ) -> Kitchen:
        """The kitchen for the catalog's kds system (its settings) and category → station mapping."""
        system = next(
            (s for s in catalog.systems if s.id == system_id or (system_id is None and s.connector == "kds")),
            None,
        )
        raw = system.settings if system is not None else {}
        settings = msgspec.convert(raw, KitchenSettings, strict=False)
        return cls(
            store,
            system_id=system.id if system is not None else (system_id or "kds"),
            emit=emit,
            settings=settings,
            category_stations=catalog.mappings.stations,
            plu_stations=catalog.mappings.plu_stations,
            locations=list(catalog.locations),
        )

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._feeds_open = True
        await self.store.start()
        self._pruned_at = clock.now()
        await self.store.prune(self._pruned_at - timedelta(hours=self.settings.keep_hours))
        await self._load()

    async def read_shared(self) -> None:
        """Memory from the database without starting: a copy that only reads, in a process of
        the group whose kitchen runs elsewhere (its tickets and 86 list as the kitchen wrote them).

        The first call loads it whole; later ones read only the station events written since the
        copy last looked (each carries its ticket's new state) and the 86 list, so a screen's
        request costs a few indexed reads, not the whole kitchen. A log that no longer holds what
        the copy missed (pruned meanwhile, or another database) loads it whole again."""
        async with self._reading:
            if self._copy_loaded and await self._follow_log():
                return
            await self._load()
            self._copy_loaded = True

    async def _follow_log(self) -> bool:
        """Apply the events written since the copy last looked; False when the log cannot say."""
        latest = await self.store.last_seqs()
        if any(station not in latest for station in self._published):
            return False
        now = clock.now()
        for station, last in latest.items():
            seen = self._published.get(station, 0)
            if last < seen:
                return False
            while seen < last:
                events = await self.store.events_after(station, seen)
                if not events or events[0].seq != seen + 1:
                    return False
                for event in events:
                    self._publish(event)
                    self._memory.remember(event.ticket)
                    self._memory.touch(event.ticket.order_id, now, 0)
                seen = events[-1].seq
        self._memory.let_go(now, 0)
        self._available = {(a.location_id, a.key): a.available for a in await self.store.availability()}
        return True

    async def _load(self) -> None:
        """Memory from the store: at start, and after a failed write."""
        await self._memory.load(clock.now())
        self._shown = {}
        for ticket in self._memory.tickets.values():
            if tk.is_open(ticket):
                self._shown.setdefault(ticket.station, {})[ticket.id] = ticket
        self._available = {(a.location_id, a.key): a.available for a in await self.store.availability()}
        self._published = await self.store.last_seqs()

    async def stop(self) -> None:
        self.close_feeds()
        await self._committer.flush()
        if self._pruning is not None:
            await asyncio.gather(self._pruning, return_exceptions=True)
        await self.store.stop()

    # -- orders in ------------------------------------------------------------------------------

    async def receive(self, order: Order) -> list[Ticket]:
        """Turn an order (or a newer version of it) into ticket changes; older versions change nothing."""
        async with self._deciding:
            changed, decided = await self._decide_order(order)
        return await self._settled(changed, decided)

    async def take(self, order: Order) -> tuple[list[Ticket], asyncio.Future[list[Ticket]]]:
        """:meth:`receive`, answered as soon as the order is decided: the tickets it changes, and
        a future that completes once they are on disk (and on the screens), or fails when the disk
        refused them. The caller may hand over its next order meanwhile: orders are decided, written
        and shown in the order they were taken.

        Once a write failed, every order decided before the kitchen went back to what the disk
        holds fails with it (the committer fails what waited behind it), and so does every order
        taken while that write was under way and decided after it failed (``TransientError``):
        a caller hands over its next order right after the previous one was decided (nothing
        runs in between), so a failed order is never followed by a later one of the same caller
        that succeeds, and a caller that retries its failed order first keeps its orders in order."""
        failures = self._committer.failures  # read before any await: see the failure check below
        async with self._deciding:
            if self._committer.failures != failures:
                raise TransientError("the kitchen's last save failed: this order goes again")
            changed, decided = await self._decide_order(order)
        return changed, asyncio.ensure_future(self._settled(changed, decided))

    async def _settled(self, changed: list[Ticket], decided: Decided | None) -> list[Ticket]:
        """Wait for a decided action's write, then send the statuses it made."""
        if decided is not None:
            statuses, committed = decided
            await self._durable(committed)
            await self._emit_statuses(statuses)
        return changed

    async def _decide_order(self, order: Order) -> tuple[list[Ticket], Decided | None]:
        record = await self._memory.warm(order.id, clock.now())
        if record is not None and order.version <= record.version:
            return [], None
        too_late = self._too_late(order, seen=record is not None)
        if too_late:
            log.info("kitchen.order_too_old", order_id=order.id, version=order.version, why=too_late)
            return [], None
        if order.state is OrderState.CANCELED:
            if record is None:
                log.info("kitchen.canceled_unseen", order_id=order.id, version=order.version)
                return [], None
            order = tk.struck_through(order)
        fired = self._fired_courses(order, record)
        routed = route_order(order, self.rules, fired)
        changed = self._apply_routed(order, routed, record is not None)
        record = OrderRecord(
            order_id=order.id,
            location_id=order.location_id,
            version=order.version,
            fired_courses=sorted(fired),
            payload=msgspec.json.encode(order),
        )
        return changed, self._decide(changed, [record])

    def _too_late(self, order: Order, *, seen: bool) -> str:
        """Why this version is not for the line ('' when it is). A newer version of an order the
        line has (a dessert added to a table) is held to the age limit only; an order the kitchen
        never saw also to what the line still cooks (:func:`first_sight_skip`)."""
        now = clock.now()
        open_limit = timedelta(minutes=self.settings.max_age_minutes)
        if seen:
            return "nothing on it for too long" if is_stale(order, now, open_limit) else ""
        return first_sight_skip(
            order,
            now,
            open_limit=open_limit,
            closed_limit=timedelta(minutes=self.settings.closed_max_age_minutes),
            location=self.locations.get(order.location_id),
        )

    def _fired_courses(self, order: Order, record: OrderRecord | None) -> set[int]:
        fired = set(record.fired_courses) if record is not None else set()
        if self.settings.course_mode is CourseMode.IMMEDIATE:
            fired |= courses_of(order)
        return fired

    def _apply_routed(self, order: Order, routed: dict[str, list[TicketItem]], seen: bool) -> list[Ticket]:
        """Tickets that change for this order version (stations it left get their items struck)."""
        now = clock.now()
        for ticket in self._memory.order_tickets(order.id):
            routed.setdefault(ticket.station, [])
        changed: list[Ticket] = []
        for station, items in routed.items():
            existing = self._memory.ticket(tk.ticket_id_for(order.id, station))
            if existing is None:
                marked = [msgspec.structs.replace(i, added=seen, added_version=order.version) for i in items]
                changed.append(tk.new_ticket(order, station, marked, now))
            else:
                updated = tk.apply_version(existing, order, items, now)
                if updated is not None and updated != existing:
                    changed.append(updated)
        return changed

    # -- courses --------------------------------------------------------------------------------

    async def fire_course(self, order_id: str, course: int) -> list[Ticket]:
        """Send a held course to the line; firing it again changes nothing."""
        async with self._deciding:
            changed, record = await self._fire(order_id, course)
            decided = self._decide(changed, [record] if record is not None else [])
        return await self._settled(changed, decided)

    async def _fire(self, order_id: str, course: int) -> tuple[list[Ticket], OrderRecord | None]:
        record = await self._memory.warm(order_id, clock.now())
        if record is None:
            raise RejectedInput(f"unknown order {order_id!r}", fix="send the order to the kitchen first")
        if course in record.fired_courses:
            return [], None
        order = msgspec.json.decode(record.payload, type=Order)
        fired = {*record.fired_courses, course}
        now = clock.now()
        changed: list[Ticket] = []
        for station, items in route_order(order, self.rules, fired).items():
            existing = self._memory.ticket(tk.ticket_id_for(order_id, station))
            if existing is not None:
                updated = tk.refire(existing, items, now)
                if updated is not None:
                    changed.append(updated)
        return changed, msgspec.structs.replace(record, fired_courses=sorted(fired))

    # -- the line's actions ---------------------------------------------------------------------

    async def start_ticket(self, station: str, ticket_id: str) -> Ticket:
        return await self._act(station, ticket_id, tk.start)

    async def bump(self, station: str, ticket_id: str) -> Ticket:
        ticket = await self._act(station, ticket_id, tk.bump)
        if self.settings.course_mode is CourseMode.ON_BUMP:
            await self._fire_next_if_ready(ticket.order_id)
        return ticket

    async def recall(self, station: str, ticket_id: str) -> Ticket:
        return await self._act(station, ticket_id, tk.recall)

    async def recall_last(self, station: str) -> Ticket:
        """Recall the station's most recently bumped ticket (the bump bar's ``r``)."""
        last = await self._memory.last_bumped(station, clock.now())
        if last is None:
            raise RejectedInput(f"nothing bumped at {station!r} to recall")
        return await self.recall(station, last.id)

    async def _act(
        self, station: str, ticket_id: str, action: Callable[[Ticket, datetime], Ticket]
    ) -> Ticket:
        async with self._deciding:
            ticket = await self._memory.warm_ticket(ticket_id, clock.now())
            if ticket is None or ticket.station != station:
                raise RejectedInput(f"no ticket {ticket_id!r} at station {station!r}")
            updated = action(ticket, clock.now())
            if updated == ticket:
                return ticket
            decided = self._decide([updated], [])
        await self._settled([updated], decided)
        return self._memory.ticket(ticket_id) or updated

    async def _fire_next_if_ready(self, order_id: str) -> None:
        record = await self._memory.warm(order_id, clock.now())
        tickets = self._memory.order_tickets(order_id)
        stations = [t for t in tickets if t.station != EXPO]
        if record is None or not tk.fired_work_done(stations):
            return
        order = msgspec.json.decode(record.payload, type=Order)
        course = next_held_course(order, set(record.fired_courses))
        if course is not None:
            await self.fire_course(order_id, course)

    # -- saving and telling ---------------------------------------------------------------------

    def _decide(self, changed: list[Ticket], records: list[OrderRecord]) -> Decided:
        """Settle expo, update memory and queue the write, at once (no await: the caller holds
        :attr:`_deciding`); the statuses to send and the write to wait for. Screens hear about it
        only once it is on disk, from the group committer, in order. Many actions share one
        transaction (group commit).

        Refused (``TransientError``) between a failed write and the reload of memory: memory
        then holds what the disk refused, and a decision on it would be written after the ones
        that failed (see :meth:`take`)."""
        if self._reloaded_after != self._committer.failures:
            raise TransientError("the kitchen is reading back what it could not save: try again")
        changed, statuses = self._settle_expo(changed)
        now = clock.now()
        events = [KitchenEvent(station=t.station, kind=EventKind.TICKET, ticket=t, at=now) for t in changed]
        for ticket in changed:
            self._memory.remember(ticket)
        for record in records:
            self._memory.keep_order(record)
        committed = self._committer.submit(Changes(orders=records, tickets=changed, events=events))
        self._housekeep(now, {t.order_id for t in changed} | {r.order_id for r in records})
        return statuses, committed

    def _housekeep(self, now: datetime, touched: set[str]) -> None:
        """Mark what this action changed, let finished orders leave memory, and prune the database
        every hour while the hub runs (not only at start)."""
        for order_id in touched:
            self._memory.touch(order_id, now, self._committer.submitted)
        if now >= self._next_let_go:
            self._next_let_go = now + LET_GO_EVERY
            self._memory.let_go(now, self._committer.written)
        if self._prune_due(now):
            self._pruned_at = now
            keep = timedelta(hours=self.settings.keep_hours)
            self._pruning = asyncio.create_task(self._prune(now - keep), name="kitchen-prune")

    async def _prune(self, before: datetime) -> int:
        try:
            dropped = await self.store.prune(before)
            await self._memory.refresh_known()
            return dropped
        except Exception:  # the next hour tries again; the kitchen goes on either way
            log.exception("kitchen.prune_failed")
            return 0

    def _prune_due(self, now: datetime) -> bool:
        if self._pruned_at is None or now - self._pruned_at < PRUNE_EVERY:
            return False
        return self._pruning is None or self._pruning.done()

    async def _durable(self, committed: asyncio.Future[list[KitchenEvent]]) -> None:
        """Wait for the write; when the disk refused it, go back to what the disk holds."""
        try:
            await committed
        except Exception as exc:
            log.exception("kitchen.commit_failed")
            async with self._deciding:
                failures = self._committer.failures
                if self._reloaded_after != failures:  # once for every action of the failed write
                    await self._load()
                    self._reloaded_after = failures
            raise TransientError(f"the kitchen could not save: {exc}") from exc

    def _settle_expo(self, changed: list[Ticket]) -> tuple[list[Ticket], list[TicketStatus]]:
        """Changed tickets plus expo tickets whose readiness moved; a status for each newly ready one."""
        pending = {t.id: t for t in changed}
        statuses: list[TicketStatus] = []
        for order_id in dict.fromkeys(t.order_id for t in changed):
            expo_id = tk.ticket_id_for(order_id, EXPO)
            expo = pending.get(expo_id) or self._memory.ticket(expo_id)
            if expo is None:
                continue
            stations = [
                pending.get(tid) or self._memory.tickets[tid]
                for tid in self._ticket_ids(order_id, pending)
                if tid != expo_id
            ]
            settled = tk.settle_expo(expo, stations, clock.now())
            if settled.ready_count > expo.ready_count:
                statuses.append(self._status(settled, stations))
            if settled != expo or expo_id in pending:
                pending[expo_id] = settled
        return list(pending.values()), statuses

    def _ticket_ids(self, order_id: str, pending: dict[str, Ticket]) -> list[str]:
        known = list(self._memory.order_ticket_ids(order_id))
        return known + [tid for tid, t in pending.items() if t.order_id == order_id and tid not in known]

    def _status(self, expo: Ticket, stations: list[Ticket]) -> TicketStatus:
        source_system, external_id = self._origin(expo.order_id)
        return TicketStatus(
            order_id=expo.order_id,
            location_id=expo.location_id,
            status="ready",
            n=expo.ready_count,
            ticket_id=expo.id,
            stations=sorted(t.station for t in stations if tk.has_work(t)),
            at=clock.now(),
            source_system=source_system,
            external_id=external_id,
        )

    def _origin(self, order_id: str) -> tuple[str | None, str | None]:
        """Which system the order came from, and its id there (from the last version received)."""
        record = self._memory.orders.get(order_id)
        if record is None:
            return None, None
        order = msgspec.json.decode(record.payload, type=Order)
        return order.source_system, order.external_id

    async def _emit_statuses(self, statuses: list[TicketStatus]) -> None:
        for status in statuses:
            await self._send(
                IncomingMessage(
                    source_system=self.system_id,
                    kind="ticket_status",
                    idempotency_key=f"kds:{status.order_id}:ready:{status.n}",
                    payload=msgspec.json.encode(status),
                    location_id=status.location_id,
                )
            )

    async def _send(self, message: IncomingMessage) -> None:
        if self.emit is None:
            return
        try:
            await self.emit(message)
        except Exception:
            log.exception("kitchen.emit_failed", kind=message.kind, key=message.idempotency_key)

    # -- 86 -------------------------------------------------------------------------------------

    async def set_availability(self, location_id: str, key: str, available: bool) -> bool:
        """86 an item (``available=False``) or bring it back; False when nothing changed."""
        if self.is_available(location_id, key) == available:
            return False
        entry = Availability(location_id=location_id, key=key, available=available, updated_at=clock.now())
        self._available[(location_id, key)] = available
        await self._durable(self._committer.submit(Changes(availability=[entry])))
        change = AvailabilityChange(
            location_id=location_id, key=key, available=available, at=entry.updated_at, plu=key
        )
        await self._send(
            IncomingMessage(
                source_system=self.system_id,
                kind="availability",
                idempotency_key=f"kds:86:{location_id}:{key}:{int(available)}:{entry.updated_at.isoformat()}",
                payload=msgspec.json.encode(change),
                location_id=location_id,
            )
        )
        return True

    def use_menu(self, location_id: str, items: Iterable[MenuItem]) -> None:
        """Items of the location's menu, new or changed (imported, or sent down by the group): a
        line naming no stations is routed by its item's stations from the next order on (by item
        id, else PLU; an item without stations leaves it to the mappings). Telling the same item
        again changes nothing."""
        menu = self._menu.setdefault(location_id, {})
        for item in items:
            menu[item.id] = item
        self.rules.menu_stations[location_id] = menu_station_map(menu.values())

    def menu_item(self, location_id: str, item_id: str) -> MenuItem | None:
        return self._menu.get(location_id, {}).get(item_id)

    def is_available(self, location_id: str, key: str) -> bool:
        """What online ordering asks before offering an item (PLU or item id)."""
        return self._available.get((location_id, key), True)

    def unavailable(self, location_id: str | None = None) -> list[tuple[str, str]]:
        """The 86 list: (location, key) of every item currently off."""
        return sorted(k for k, ok in self._available.items() if not ok and location_id in (None, k[0]))

    # -- reading --------------------------------------------------------------------------------

    async def knows_order(self, order_id: str) -> bool:
        if order_id in self._memory.orders:
            return True
        if order_id not in self._memory.known:
            return False
        record, _ = await self.store.read_order(order_id)
        return record is not None

    async def ticket(self, ticket_id: str) -> Ticket | None:
        """The ticket as it is now (from the database when it left memory)."""
        return self._memory.ticket(ticket_id) or await self.store.read_ticket(ticket_id)

    def tickets_for(self, station: str, *, include_bumped: bool = False) -> list[Ticket]:
        """The station's tickets with fired work, oldest first (ties in arrival order); with
        ``include_bumped``, also those bumped lately (finished orders leave memory, see
        :mod:`~expediter.operations.kitchen.memory`)."""
        found = [t for t in self._station(station) if tk.has_work(t) and (include_bumped or tk.is_open(t))]
        return sorted(found, key=lambda t: t.fired_at)

    def all_day(self, station: str) -> dict[str, Decimal]:
        return tk.all_day_counts(self._station(station))

    def _station(self, station: str) -> list[Ticket]:
        return self._memory.station_tickets(station)

    def timing(self, station: str) -> StationTiming:
        return self.settings.stations.get(station, self.settings.timing)

    def stations(self) -> list[str]:
        """Stations that have tickets or are configured, expo last."""
        known = set(self._memory.stations) | set(self.settings.stations)
        known |= {s for stations in self.rules.category_stations.values() for s in stations}
        known |= {s for stations in self.rules.plu_stations.values() for s in stations}
        known |= {s for menu in self.rules.menu_stations.values() for ss in menu.values() for s in ss}
        known.discard(EXPO)
        return [*sorted(known), EXPO]

    # -- live feed ------------------------------------------------------------------------------

    def subscribe(self, station: str) -> Subscription:
        """A live feed of ``station``; once the feeds are closed, one that ends at once."""
        subscription = Subscription(station)
        if not self._feeds_open:
            subscription.close()
            return subscription
        self._subscribers.setdefault(station, set()).add(subscription)
        return subscription

    def close_feeds(self) -> int:
        """End every live stream and every one that starts from now on (the server is stopping:
        it waits for every response in flight, and a live stream never ends by itself)."""
        self._feeds_open = False
        return sum(self.disconnect(station) for station in list(self._subscribers))

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.get(subscription.station, set()).discard(subscription)

    def screens_online(self, station: str) -> int:
        """How many screens are listening to ``station`` right now (printers fall back on zero)."""
        return len(self._subscribers.get(station, ()))

    def screened_stations(self) -> list[str]:
        """Stations with at least one screen listening now."""
        return sorted(station for station, screens in self._subscribers.items() if screens)

    def disconnect(self, station: str) -> int:
        """End every live stream of ``station`` (screens reconnect and catch up); returns how many."""
        subscribers = self._subscribers.pop(station, set())
        for subscription in subscribers:
            subscription.close()
        return len(subscribers)

    def snapshot(self, station: str) -> tuple[list[Ticket], int]:
        """The station's open tickets as its screens were told, and the sequence number that
        reflects (taken together, so a stream that subscribed first continues with exactly the
        events after it)."""
        shown = [t for t in self._shown.get(station, {}).values() if tk.is_open(t)]
        return sorted(shown, key=lambda t: t.fired_at), self._published.get(station, 0)

    def _publish_all(self, events: list[KitchenEvent]) -> None:
        for event in events:
            self._publish(event)

    def _publish(self, event: KitchenEvent) -> None:
        self._published[event.station] = event.seq
        shown = self._shown.setdefault(event.station, {})
        if tk.is_open(event.ticket):
            shown[event.ticket.id] = event.ticket
        else:
            shown.pop(event.ticket.id, None)
        for subscription in list(self._subscribers.get(event.station, ())):
            if not subscription.push(event):
                self.unsubscribe(subscription)

    async def events_after(self, station: str, seq: int, limit: int = 1000) -> list[KitchenEvent]:
        return await self.store.events_after(station, seq, limit)

    async def last_seq(self, station: str) -> int:
        return await self.store.last_seq(station)
