"""An order's whole journey through every system, from lookups (no search).

From the order id: its stored versions (the ``messages`` index by kind and id), each version's
lineage in the ledger (which transfers carried it, produced it, polled it), the raw webhook
event a processing step turned into it, the kitchen's tickets for it (per station: fired,
bumped, ready), the ready notices the kitchen sent back (their idempotency keys name the order)
and where those went, and every nightly file that carried it, with what the order put in each:
its lines in the sales summary, its items in the product mix, its lines in the journal entry,
its tips in payroll and its ingredients in the usage.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

import msgspec

from expediter.engine.hub import Hub
from expediter.engine.inbox import StoredMessage
from expediter.errors import ExpediterError, RejectedInput
from expediter.ledger.lineage import LinkRole, LinkRow
from expediter.ledger.transfers import Transfer
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Order, order_totals
from expediter.operations.accounting.journal import build_journal
from expediter.operations.inventory.export import load_book
from expediter.operations.inventory.usage import theoretical_usage
from expediter.operations.kitchen.tickets import Ticket, TicketState
from expediter.operations.labor.tips import UNASSIGNED, pos_tips_by_employee, service_charge_wages
from expediter.operations.sales.close import product_mix, summarize_day

_orders = msgspec.json.Decoder(Order)


class Stage(StrEnum):
    RECEIVED = "received"
    STORED = "stored"
    PROCESSED = "processed"
    CONFIRMED = "confirmed"
    """A poll found it again (already stored)."""
    DELIVERED = "delivered"
    TICKET = "ticket"
    READY = "ready"
    STATUS = "status"
    FILE = "file"


class Hop(msgspec.Struct, kw_only=True):
    """One step of the journey."""

    stage: Stage
    at: datetime | None
    system: str
    what: str
    flow_id: str = ""
    outcome: str = ""
    message_id: int | None = None
    transfer_id: int | None = None
    delivery_id: int | None = None


class Version(msgspec.Struct, kw_only=True):
    version: int
    message_id: int
    source_system: str
    via: str
    """``webhook``, ``poll`` or ``api``."""
    received_at: datetime
    total: Money
    state: str


class FileShare(msgspec.Struct, kw_only=True):
    """A nightly flow's files for a night that carried the order, and what the order put in them."""

    flow_id: str
    data: str
    business_date: date | None
    files: list[str]
    transfer_ids: list[int]
    sent_at: datetime
    """When the latest of them went."""
    lines: list[str]


class Journey(msgspec.Struct, kw_only=True):
    order_id: str
    location_id: str
    business_date: date | None
    versions: list[Version]
    hops: list[Hop]
    files: list[FileShare]


def no_such_order(order_id: str) -> RejectedInput:
    return RejectedInput(
        f"no order {order_id!r} in the hub",
        where="ORDER",
        fix="give the order's id as the hub stores it (see `expediter transfers` or the POS),"
        " e.g. L001-20261126-C0042",
    )


class KitchenTickets(Protocol):
    async def tickets_of_orders(self, order_ids: list[str]) -> list[Ticket]: ...


class Tracer:
    def __init__(self, hub: Hub, kitchen: KitchenTickets | None = None) -> None:
        self.hub = hub
        self.catalog = hub.catalog
        self.kitchen = kitchen or getattr(hub.services.kitchen, "store", None)

    async def trace(self, order_id: str) -> Journey:
        messages = await self.hub.inbox.all_by_ref("orders", order_id)
        if not messages:
            raise no_such_order(order_id)
        orders = [(m, _orders.decode(m.payload)) for m in messages]
        newest = max(orders, key=lambda pair: (pair[1].version, pair[0].id))
        links = await self.hub.ledger.links_of([m.id for m in messages])
        transfers = {t.id: t for t in await self.hub.ledger.get([link.transfer_id for link in links])}
        hops: list[Hop] = []
        versions = []
        for message, order in orders:
            mine = [link for link in links if link.message_id == message.id]
            via, arrival = await self._arrival(message, mine, transfers)
            versions.append(_version(message, order, via))
            hops += arrival
            hops += [
                _carried(transfers[link.transfer_id], link, message)
                for link in mine
                if link.role is LinkRole.CARRIED
            ]
        hops += await self._kitchen(order_id)
        hops += await self._status(order_id)
        files = self._files(links, transfers, orders)
        hops.sort(key=lambda hop: (hop.at is None, hop.at or datetime.min, hop.stage != Stage.RECEIVED))
        return Journey(
            order_id=order_id,
            location_id=newest[1].location_id,
            business_date=newest[0].business_date,
            versions=sorted(versions, key=lambda v: (v.version, v.message_id)),
            hops=hops,
            files=files,
        )

    # -- how each version came in ---------------------------------------------------------------

    async def _arrival(
        self, message: StoredMessage, links: list[LinkRow], transfers: dict[int | None, Transfer]
    ) -> tuple[str, list[Hop]]:
        hops = []
        via = "api"
        for link in links:
            transfer = transfers[link.transfer_id]
            if link.role is LinkRole.PRODUCED:
                via = "webhook"
                hops += await self._from_webhook(message, transfer)
            elif link.role is LinkRole.POLLED:
                via = "poll"
                hops.append(_polled(message, transfer, Stage.RECEIVED, "found by the poll and stored"))
            elif link.role is LinkRole.CONFIRMED:
                hops.append(
                    _polled(message, transfer, Stage.CONFIRMED, "found again by the poll (already stored)")
                )
        if via == "api":
            hops.append(
                Hop(
                    stage=Stage.RECEIVED,
                    at=message.received_at,
                    system=message.source_system,
                    what=f"posted to the hub's API (POST /api/v1/orders), key {message.idempotency_key}",
                    message_id=message.id,
                )
            )
        hops.append(_stored(message))
        return via, hops

    async def _from_webhook(self, message: StoredMessage, transfer: Transfer) -> list[Hop]:
        raw = await self.hub.inbox.get(transfer.message_id) if transfer.message_id else None
        hops = []
        if raw is not None:
            hops.append(
                Hop(
                    stage=Stage.RECEIVED,
                    at=raw.received_at,
                    system=raw.source_system,
                    what=f"webhook ({raw.kind}) verified and stored raw as message {raw.id}",
                    message_id=raw.id,
                )
            )
        hops.append(
            Hop(
                stage=Stage.PROCESSED,
                at=transfer.finished_at,
                system=message.source_system,
                what=f"processed into the canonical order (message {message.id})",
                flow_id=transfer.flow_id,
                outcome=str(transfer.outcome),
                transfer_id=transfer.id,
                delivery_id=transfer.delivery_id,
            )
        )
        return hops

    # -- the kitchen ------------------------------------------------------------------------------

    async def _kitchen(self, order_id: str) -> list[Hop]:
        if self.kitchen is None:
            return []
        hops = []
        for ticket in await self.kitchen.tickets_of_orders([order_id]):
            hops.append(_ticket(ticket))
            if ticket.state is TicketState.READY or ticket.ready_count:
                hops.append(
                    Hop(
                        stage=Stage.READY,
                        at=ticket.updated_at if ticket.state is TicketState.READY else ticket.bumped_at,
                        system="kds",
                        what=f"ready at the pass ({ticket.ready_count or 1} time(s))",
                    )
                )
        return hops

    async def _status(self, order_id: str) -> list[Hop]:
        """The ready notices the kitchen sent for the order, and every delivery of them."""
        notices = await self.hub.inbox.by_key_prefix(f"kds:{order_id}:ready:")
        links = await self.hub.ledger.links_of([m.id for m in notices])
        transfers = {t.id: t for t in await self.hub.ledger.get([link.transfer_id for link in links])}
        hops = []
        for notice in notices:
            hops.append(
                Hop(
                    stage=Stage.STATUS,
                    at=notice.received_at,
                    system=notice.source_system,
                    what=f"ready notice {notice.idempotency_key.rsplit(':', 1)[-1]} sent back"
                    f" (message {notice.id})",
                    message_id=notice.id,
                )
            )
            for link in links:
                if link.message_id == notice.id and link.role is LinkRole.CARRIED:
                    hops.append(_carried(transfers[link.transfer_id], link, notice))
        return hops

    # -- the nightly files ------------------------------------------------------------------------

    def _files(
        self,
        links: list[LinkRow],
        transfers: dict[int | None, Transfer],
        orders: list[tuple[StoredMessage, Order]],
    ) -> list[FileShare]:
        """Per flow and night: the files that carried a version of the order, and its share."""
        by_id = {m.id: o for m, o in orders}
        grouped: dict[tuple[str, date | None], list[tuple[Transfer, Order]]] = {}
        for link in links:
            transfer = transfers[link.transfer_id]
            if transfer.file_name and link.role is LinkRole.CARRIED and self.catalog.flow(transfer.flow_id):
                key = (transfer.flow_id, transfer.business_date)
                grouped.setdefault(key, []).append((transfer, by_id[link.message_id]))
        return sorted(
            (self._file_share(flow_id, day, carried) for (flow_id, day), carried in grouped.items()),
            key=lambda share: (share.sent_at, share.flow_id),
        )

    def _file_share(self, flow_id: str, day: date | None, carried: list[tuple[Transfer, Order]]) -> FileShare:
        flow = self.catalog.flow(flow_id)
        assert flow is not None
        latest, order = max(carried, key=lambda pair: (pair[0].finished_at, pair[0].id or 0))
        return FileShare(
            flow_id=flow_id,
            data=flow.data,
            business_date=day,
            files=sorted({t.file_name for t, _ in carried}),
            transfer_ids=sorted(t.id or 0 for t, _ in carried),
            sent_at=latest.finished_at,
            lines=self._share(flow.data, flow.to, order, day),
        )

    def _share(self, data: str, system_id: str, order: Order, day: date | None) -> list[str]:
        location = self.catalog.location(order.location_id)
        if location is None or day is None:
            return []
        try:
            return _SHARES.get(data, _no_share)(self, order, location, day, system_id)
        except ExpediterError as exc:
            return [f"(not computed: {exc})"]

    def _journal(self, order: Order, location: Location, day: date, system_id: str) -> list[str]:
        entry = build_journal(
            [order], self.catalog.mappings, location_id=location.id, business_date=day, location=location
        )
        return [f"{line.account}  {_side(line.debit, line.credit)}  {line.memo}" for line in entry.lines]

    def _usage(self, order: Order, location: Location, day: date, system_id: str) -> list[str]:
        system = self.catalog.system(system_id)
        recipes = str(system.settings.get("recipes", "")) if system else ""
        used = theoretical_usage(
            [order], load_book(self.catalog, recipes), location_id=location.id, business_date=day
        )
        lines = [f"{ingredient}: {_quantity(quantity)}" for ingredient, quantity in used.usage.items()]
        return lines + [f"no recipe for {m.name} ({m.key})" for m in used.missing_recipes]


def _sales(tracer: Tracer, order: Order, location: Location, day: date, system_id: str) -> list[str]:
    summary = summarize_day(location, day, [order])
    lines = [
        f"net sales {category}: {amount.format()}"
        for category, amount in summary.net_sales_by_category.items()
    ]
    lines += [f"tax {summary.tax.format()}", f"total {summary.total.format()}"]
    if summary.refund_count:
        lines.append(f"refunds {summary.refund_amount.format()}")
    return lines


def _mix(tracer: Tracer, order: Order, location: Location, day: date, system_id: str) -> list[str]:
    return [
        f"{row.item_name} × {row.quantity.normalize():f}: net {row.net.format()}"
        for row in product_mix(location, day, [order])
    ]


def _tips(tracer: Tracer, order: Order, location: Location, day: date, system_id: str) -> list[str]:
    tips = pos_tips_by_employee([order])
    wages = service_charge_wages([order])
    lines = [f"tips to {_whom(employee)}: {amount.format()}" for employee, amount in tips.items()]
    lines += [
        f"service-charge wages to {_whom(employee)}: {amount.format()}" for employee, amount in wages.items()
    ]
    return lines or ["no tips on this order"]


def _whom(employee_id: str) -> str:
    return employee_id if employee_id != UNASSIGNED else "the tip pool (the check has no server)"


def _quantity(quantity: Decimal) -> str:
    return f"{quantity.quantize(Decimal('0.0001')).normalize():f}"


def _no_share(tracer: Tracer, order: Order, location: Location, day: date, system_id: str) -> list[str]:
    return []


_SHARES = {
    "sales_summary": _sales,
    "product_mix": _mix,
    "journal": Tracer._journal,
    "payroll": _tips,
    "inventory_usage": Tracer._usage,
}


def _side(debit: Money, credit: Money) -> str:
    return f"debit {debit.format()}" if debit.amount else f"credit {credit.format()}"


def _version(message: StoredMessage, order: Order, via: str) -> Version:
    return Version(
        version=order.version,
        message_id=message.id,
        source_system=message.source_system,
        via=via,
        received_at=message.received_at,
        total=order_totals(order).total,
        state=str(order.state),
    )


def _stored(message: StoredMessage) -> Hop:
    day = f", business date {message.business_date}" if message.business_date else ""
    return Hop(
        stage=Stage.STORED,
        at=message.received_at,
        system="hub",
        what=f"stored as message {message.id}{day}",
        message_id=message.id,
    )


def _polled(message: StoredMessage, transfer: Transfer, stage: Stage, what: str) -> Hop:
    return Hop(
        stage=stage,
        at=transfer.finished_at,
        system=message.source_system,
        what=f"{what} ({transfer.endpoint})",
        flow_id=transfer.flow_id,
        transfer_id=transfer.id,
        message_id=message.id,
    )


def _carried(transfer: Transfer, link: LinkRow, message: StoredMessage) -> Hop:
    if transfer.file_name:
        return Hop(
            stage=Stage.FILE,
            at=transfer.finished_at,
            system=transfer.endpoint,
            what=f"in {transfer.file_name}",
            flow_id=transfer.flow_id,
            outcome=str(transfer.outcome),
            transfer_id=transfer.id,
            message_id=message.id,
        )
    ref = f" → {transfer.remote_ref}" if transfer.remote_ref else ""
    error = f": {transfer.error}" if transfer.error else ""
    return Hop(
        stage=Stage.DELIVERED,
        at=transfer.finished_at,
        system=transfer.endpoint,
        what=f"{transfer.outcome}{ref}{error}",
        flow_id=transfer.flow_id,
        outcome=str(transfer.outcome),
        transfer_id=transfer.id,
        delivery_id=link.delivery_id,
        message_id=message.id,
    )


def _ticket(ticket: Ticket) -> Hop:
    times = [f"fired {ticket.fired_at.isoformat(timespec='seconds')}"]
    if ticket.bumped_at is not None:
        times.append(f"bumped {ticket.bumped_at.isoformat(timespec='seconds')}")
    items = ", ".join(
        f"{item.quantity.normalize():f} × {item.name}" for item in ticket.items if not item.voided
    )
    return Hop(
        stage=Stage.TICKET,
        at=ticket.created_at,
        system=f"kds:{ticket.station}",
        what=f"ticket {ticket.id} ({ticket.state}): {items}; " + ", ".join(times),
        outcome=str(ticket.state),
    )
