"""What the kitchen holds in memory: the live orders and their tickets; finished ones leave.

Why not everything: an order is about 7 KiB in memory (its last version, its tickets and their
indexes), and a busy hub receives hundreds a minute for days. The line only ever acts on live
orders, so memory holds an order while one of its tickets is open or a course is held, and for a
while after it finished (:data:`FINISHED_KEPT`, at most :data:`MOST_FINISHED` orders): a recall
or a late version usually comes soon. Everything stays in the hub's database
(:class:`~expediter.operations.kitchen.store.KitchenStore`) for ``keep_hours``; an order that left
memory is read back from it, whole, the moment anyone needs it (a later version, a recall, a
fire), so leaving memory changes nothing the kitchen does.

An order leaves memory only once its last change is on disk (the group committer's count), so
the database always holds what memory forgot.

Memory also knows which orders the database holds (:attr:`TicketMemory.known`, a Bloom filter
of their ids: a fixed :data:`FILTER_BYTES` however many orders, rebuilt after each hourly prune),
so an order the kitchen never saw — most of what arrives — is decided without reading the
database at all: reading it is an ``await`` on the storage's reading threads, and the kitchen
decides one action at a time. The filter never says "no" for an order the database holds; its
rare wrong "yes" costs one read that finds nothing. Measured with ``bench/kitchen.py`` (the
engine path, 4 s a rate, on a shared 2-core machine): reading every new order back cost p50 5.0 s
at 300 orders/s (the reads queued behind the lock); with the filter, p50 14 ms, p99 290 ms.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime, timedelta

from expediter.operations.kitchen import tickets as tk
from expediter.operations.kitchen.store import KitchenStore, OrderRecord
from expediter.operations.kitchen.tickets import Ticket

FINISHED_KEPT = timedelta(minutes=15)
"""How long a finished order stays in memory after its last change."""
MOST_FINISHED = 2000
"""How many recently changed orders memory holds at most (a bound however busy the hub is)."""
FILTER_BYTES = 1 << 20
"""The Bloom filter's size: with a million orders in the database, about 2 % of new orders are
read back for nothing (four hashes over 8 Mi bits)."""


class OrderFilter:
    """A Bloom filter of order ids: ``id in filter`` is never False for an id added."""

    def __init__(self, size: int = FILTER_BYTES) -> None:
        self.bits = bytearray(size)
        self._count = size * 8

    def _positions(self, order_id: str) -> list[int]:
        digest = hashlib.blake2b(order_id.encode(), digest_size=16).digest()
        return [int.from_bytes(digest[i : i + 4], "little") % self._count for i in (0, 4, 8, 12)]

    def add(self, order_id: str) -> None:
        for position in self._positions(order_id):
            self.bits[position >> 3] |= 1 << (position & 7)

    def __contains__(self, order_id: object) -> bool:
        if not isinstance(order_id, str):
            return False
        return all(self.bits[p >> 3] & (1 << (p & 7)) for p in self._positions(order_id))


class TicketMemory:
    """Tickets by id, by order and by station, the orders' last versions, and which leave next."""

    def __init__(
        self, store: KitchenStore, *, kept: timedelta = FINISHED_KEPT, most: int = MOST_FINISHED
    ) -> None:
        self.store = store
        self.kept = kept
        self.most = most
        self.tickets: dict[str, Ticket] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.stations: set[str] = set()
        """Every station that ever had a ticket (the index of screens), also after they left."""
        self._by_order: dict[str, list[str]] = {}
        self._by_station: dict[str, dict[str, Ticket]] = {}
        self._recent: OrderedDict[str, tuple[datetime, int]] = OrderedDict()
        """Order id → when it last changed and the number of the write that holds the change."""
        self.known = OrderFilter()
        """Every order the database holds or memory will write (see the module's docstring)."""
        self._rebuilding: OrderFilter | None = None

    async def load(self, now: datetime) -> None:
        """The live orders from the database (at start, and after a failed write)."""
        self.tickets, self.orders, self._by_order, self._by_station = {}, {}, {}, {}
        self._recent.clear()
        since = now - self.kept
        for ticket in await self.store.tickets(changed_since=since):
            self.remember(ticket)
        for record in await self.store.orders(changed_since=since):
            self.orders[record.order_id] = record
        self.known = OrderFilter()
        for order_id in [*await self.store.order_ids(), *self.orders]:
            self.known.add(order_id)
        self.stations |= set(await self.store.stations())
        for order_id in self.orders:
            self.touch(order_id, now, 0)

    # -- reading --------------------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> Ticket | None:
        return self.tickets.get(ticket_id)

    def order_ticket_ids(self, order_id: str) -> list[str]:
        return self._by_order.get(order_id, [])

    def order_tickets(self, order_id: str) -> list[Ticket]:
        return [self.tickets[t] for t in self._by_order.get(order_id, [])]

    def station_tickets(self, station: str) -> list[Ticket]:
        return list(self._by_station.get(station, {}).values())

    async def warm(self, order_id: str, now: datetime) -> OrderRecord | None:
        """The order's last version, read back whole from the database when it had left memory
        (no ``await`` happens when it is in memory)."""
        record = self.orders.get(order_id)
        if record is not None or order_id not in self.known:
            return record
        record, tickets = await self.store.read_order(order_id)
        if order_id in self.orders:  # came back while the read ran: memory is newer
            return self.orders[order_id]
        if record is None:
            return None
        for ticket in tickets:
            if ticket.id not in self.tickets:
                self.remember(ticket)
        self.orders[order_id] = record
        self.touch(order_id, now, 0)
        return record

    async def warm_ticket(self, ticket_id: str, now: datetime) -> Ticket | None:
        """A ticket, with its whole order read back into memory when it had left."""
        ticket = self.tickets.get(ticket_id)
        if ticket is not None:
            return ticket
        stored = await self.store.read_ticket(ticket_id)
        if stored is None:
            return None
        await self.warm(stored.order_id, now)
        return self.tickets.get(ticket_id)

    async def last_bumped(self, station: str, now: datetime) -> Ticket | None:
        """The station's most recently bumped ticket, wherever it is."""
        bumped = [t for t in self.station_tickets(station) if t.state is tk.TicketState.BUMPED]
        stored = await self.store.read_last_bumped(station)
        if stored is not None and stored.id not in self.tickets:
            bumped.append(stored)
        if not bumped:
            return None
        last = max(bumped, key=lambda t: t.bumped_at or t.updated_at)
        return await self.warm_ticket(last.id, now)

    # -- changing -------------------------------------------------------------------------------

    def keep_order(self, record: OrderRecord) -> None:
        """The order's new last version (its write is queued)."""
        self.orders[record.order_id] = record
        for known in (self.known, self._rebuilding):
            if known is not None:
                known.add(record.order_id)

    async def refresh_known(self) -> None:
        """Rebuild :attr:`known` from the orders the database still holds (after a prune). An
        order not in memory when the read starts was written before it (it left memory only
        then), so the read finds it; one kept while the read runs goes into the new filter too."""
        fresh = self._rebuilding = OrderFilter()
        try:
            for order_id in list(self.orders):
                fresh.add(order_id)
            for order_id in await self.store.order_ids():
                fresh.add(order_id)
        finally:
            self._rebuilding = None
        self.known = fresh

    def remember(self, ticket: Ticket) -> None:
        ids = self._by_order.setdefault(ticket.order_id, [])
        if ticket.id not in ids:
            ids.append(ticket.id)
        self.tickets[ticket.id] = ticket
        self._by_station.setdefault(ticket.station, {})[ticket.id] = ticket
        self.stations.add(ticket.station)

    def touch(self, order_id: str, now: datetime, write: int) -> None:
        """``order_id`` changed at ``now``; the change is on disk once write number ``write`` is."""
        self._recent[order_id] = (now, write)
        self._recent.move_to_end(order_id)

    def let_go(self, now: datetime, written: int) -> int:
        """Forget the finished orders whose last change is old enough (or that are the oldest of
        too many) and on disk; returns how many left. Cheap: it looks at the oldest only."""
        gone = 0
        while self._recent:
            order_id, (changed, write) = next(iter(self._recent.items()))
            due = changed <= now - self.kept or len(self._recent) > self.most
            if not due or write > written:
                break
            del self._recent[order_id]
            if self._finished(order_id):  # a live order stays; its next change brings it back here
                self._forget(order_id)
                gone += 1
        return gone

    def _finished(self, order_id: str) -> bool:
        """Nothing left to do: every ticket is bumped (or has nothing fired) and no course waits."""
        tickets = self.order_tickets(order_id)
        held = any(not i.fired and not i.voided for t in tickets for i in t.items)
        return not held and not any(tk.is_open(t) for t in tickets)

    def _forget(self, order_id: str) -> None:
        for ticket_id in self._by_order.pop(order_id, []):
            ticket = self.tickets.pop(ticket_id)
            station = self._by_station.get(ticket.station, {})
            station.pop(ticket_id, None)
            if not station:
                self._by_station.pop(ticket.station, None)
        self.orders.pop(order_id, None)
