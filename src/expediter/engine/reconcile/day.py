"""One location-day as the reconciliation reads it: the day's orders (each message decoded once
for every check), their lineage and the transfers that carried them, and when a night's file is due."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

import msgspec

from expediter.catalog.schema import Flow
from expediter.engine.hub import Hub
from expediter.engine.inbox import StoredMessage
from expediter.engine.jobs import REFUND_LOOKBACK
from expediter.engine.schedule_time import business_day_end, expected_by_deadline, next_occurrence
from expediter.errors import ConfigError
from expediter.ledger.lineage import LinkRow
from expediter.ledger.transfers import Transfer, TransferOutcome
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.operations.accounting.dating import refund_dates, sale_date
from expediter.operations.kitchen.tickets import Ticket

_orders = msgspec.json.Decoder(Order)


class KitchenTickets(Protocol):
    async def tickets_of_orders(self, order_ids: list[str]) -> list[Ticket]: ...


def file_due(flow: Flow, location: Location, day: date, now: datetime) -> bool:
    """Whether the night's file of ``flow`` should have gone out by ``now``: past its
    ``expected_by``, else an hour after its scheduled run, else once the day has ended."""
    end = business_day_end(location, day)
    try:
        if flow.expected_by:
            return now >= expected_by_deadline(location, day, flow.expected_by)
        if flow.schedule:
            return now >= next_occurrence(flow.schedule, location.timezone, end - timedelta(seconds=1)) + (
                timedelta(hours=1)
            )
    except ConfigError:
        pass
    return now >= end


def decoded_orders(messages: Iterable[StoredMessage]) -> list[tuple[StoredMessage, Order]]:
    found = []
    for message in messages:
        try:
            found.append((message, _orders.decode(message.payload)))
        except msgspec.DecodeError:
            continue  # not canonical: its delivery said so
    return found


def newest_by_ref(pairs: Iterable[tuple[StoredMessage, Order]]) -> dict[str, tuple[StoredMessage, Order]]:
    """One version per order: the highest version (the latest stored when versions tie)."""
    newest: dict[str, tuple[StoredMessage, Order]] = {}
    for message, order in pairs:
        known = newest.get(order.id)
        if known is None or order.version >= known[1].version:
            newest[order.id] = (message, order)
    return newest


class EarlierRefunds:
    """Orders sold before a day and refunded on it, for a run of consecutive days: the look-back
    before the first day is read once (not once a day), then the run's own orders that carry a
    refund are added as the days go by."""

    def __init__(self, location: Location, before: Iterable[Order]) -> None:
        self.location = location
        self.orders: dict[str, Order] = {}
        self.add(before)

    def add(self, orders: Iterable[Order]) -> None:
        for order in orders:
            known = self.orders.get(order.id)
            if order.refunds and (known is None or order.version >= known.version):
                self.orders[order.id] = order

    def on(self, day: date) -> list[Order]:
        oldest = day - REFUND_LOOKBACK
        return [
            order
            for order in self.orders.values()
            if oldest <= sale_date(order, self.location) < day and day in refund_dates(order, self.location)
        ]


class Day:
    """One location-day's reads, shared by its checks."""

    def __init__(
        self, hub: Hub, location: Location, day: date, now: datetime, refunds: EarlierRefunds | None = None
    ) -> None:
        self.hub, self.location, self.day, self.now = hub, location, day, now
        self.refunds = refunds
        self._orders: list[tuple[StoredMessage, Order]] | None = None
        self._decoded: dict[int, Order] = {}
        self._links: dict[int, list[LinkRow]] = {}
        self._transfers: dict[int, Transfer] = {}

    @property
    def closed(self) -> bool:
        return self.now >= business_day_end(self.location, self.day)

    async def orders(self, source_system: str | None = None) -> list[tuple[StoredMessage, Order]]:
        """Every version of every order of the day (of one source system, or all)."""
        if self._orders is None:
            self._orders = self.decoded(await self.hub.inbox.of_day("orders", self.location.id, self.day))
        return [(m, o) for m, o in self._orders if source_system in (None, m.source_system)]

    def decoded(self, messages: Iterable[StoredMessage]) -> list[tuple[StoredMessage, Order]]:
        """The orders among ``messages``, each message decoded once for all the day's checks."""
        wanted = [m for m in messages if m.kind == "orders"]
        for pair in decoded_orders(m for m in wanted if m.id not in self._decoded):
            self._decoded[pair[0].id] = pair[1]
        return [(m, self._decoded[m.id]) for m in wanted if m.id in self._decoded]

    async def links(self, message_ids: Sequence[int]) -> dict[int, list[LinkRow]]:
        """Message id → its lineage, each message read once."""
        missing = [i for i in message_ids if i not in self._links]
        if missing:
            for message_id in missing:
                self._links[message_id] = []
            for link in await self.hub.ledger.links_of(missing):
                self._links[link.message_id].append(link)
        return {i: self._links[i] for i in message_ids}

    async def transfers(self, transfer_ids: Iterable[int]) -> dict[int, Transfer]:
        missing = [i for i in set(transfer_ids) if i not in self._transfers]
        if missing:
            for transfer in await self.hub.ledger.get(missing):
                assert transfer.id is not None
                self._transfers[transfer.id] = transfer
        return self._transfers

    async def latest_file(self, flow: Flow) -> Transfer | None:
        """The flow's latest successful file of the day."""
        sent = await self.hub.ledger.day_transfers(
            flow.id, self.location.id, self.day, self.day, TransferOutcome.SUCCEEDED
        )
        return sent[-1] if sent else None

    async def carried(self, transfer: Transfer | None) -> list[StoredMessage]:
        if transfer is None or transfer.id is None:
            return []
        return await self.hub.inbox.get_many(await self.hub.ledger.carried_by(transfer.id))
