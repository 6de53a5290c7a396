"""The vendor desk: purchase orders out, vendor files in, matched, booked and answered.

The engine puts the vendor connector (which reads and writes the vendor's formats) and
:mod:`expediter.operations.purchasing` (which matches on the model) together:

- **purchase orders**: a ``purchase_order`` flow to a vendor asks the ``purchase_orders`` service
  for the suggested orders of the day (par levels against the day's count); each is recorded, so
  the invoice can be matched to it, and the vendor's connector writes it (an X12 850);
- **arriving files** (``invoice``, ``po_ack`` flows, ``trigger = "file_arrival"``): stored raw in
  the inbox first, then read by the source system's connector. Acknowledgements are kept; each
  invoice is matched to its PO and stored once per vendor and invoice number (the same invoice
  again is a duplicate and books nothing); a credit memo settles disputed exceptions. Every
  interchange is answered with a 997 (accepting or rejecting with reasons). A file nothing can
  be read from is rejected: the watcher moves it to the failed folder (quarantine, for replay
  after a fix) and the flow's alert fires;
- **booking**: an invoice with no open exception updates the ingredient costs and becomes an AP
  bill, kept once per vendor invoice number and sent through every enabled ``ap_bill`` flow (the
  accounting connector writes the file).
- **control numbers** for what is written are kept in the hub's database
  (:class:`StoredControlNumbers`, the rule in :mod:`expediter.formats.x12.control`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import msgspec
import structlog

from expediter.catalog.schema import Flow, Level, System
from expediter.engine.hub import Hub
from expediter.errors import ConfigError, ExpediterError, RejectedInput, TerminalError
from expediter.formats.x12.control import next_control_number
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.money import Money
from expediter.model.vendors import (
    APBill,
    Invoice,
    InvoiceKind,
    ItemIds,
    POAcknowledgement,
    POLine,
    PurchaseOrder,
)
from expediter.operations.inventory.counts import on_hand, read_counts
from expediter.operations.inventory.export import counts_lookup, load_book
from expediter.operations.inventory.reorder import suggest_purchase_orders
from expediter.operations.purchasing import (
    InvoiceState,
    MatchResult,
    PurchasingStore,
    Resolution,
    StoredInvoice,
    VendorPolicy,
    Winner,
    bill_for,
    costs_from_invoice,
    match_invoice,
)
from expediter.plugin.base import ConnectorContext, ExportRequest, OutputFile
from expediter.plugin.transport import TransferRecord, send_file
from expediter.storage.base import Storage, Tx, now_iso

log = structlog.get_logger(__name__)
VENDOR_DATA = frozenset({"invoice", "po_ack"})
AP_BILL_DATA = "ap_bill"
AP_BILLS = "ap_bills"
"""``ExportRequest.extra`` key: the :class:`~expediter.model.vendors.APBill` list to write."""
T = TypeVar("T")


class VendorFileRead(Protocol):
    invoices: list[Invoice]
    acknowledgements: list[POAcknowledgement]
    replies: list[tuple[str, bytes]]

    @property
    def errors(self) -> list[Any]: ...


class StoredControlNumbers:
    """Control numbers per partner in the hub's database (``x12_control_numbers``)."""

    def __init__(self, storage: Storage, loop: asyncio.AbstractEventLoop) -> None:
        self.storage = storage
        self.loop = loop

    async def allocate_async(self, partner: str) -> int:
        def work(tx: Tx) -> int:
            row = tx.one("SELECT last_number FROM x12_control_numbers WHERE partner = ?", [partner])
            number = next_control_number(int(row["last_number"]) if row else 0, clock.now())
            tx.execute(
                "INSERT INTO x12_control_numbers (partner, last_number, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (partner) DO UPDATE SET last_number = excluded.last_number,"
                " updated_at = excluded.updated_at",
                [partner, number, now_iso()],
            )
            return number

        return await self.storage.write(work)

    def allocate(self, partner: str) -> int:
        """From a worker thread (exporters and readers run in one): waits for the commit."""
        return _on_loop(self.loop, self.allocate_async(partner))


def _on_loop(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, T]) -> T:
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        work.close()
        raise RuntimeError("call from a worker thread (asyncio.to_thread), not from the event loop")
    return asyncio.run_coroutine_threadsafe(work, loop).result(timeout=60)


def policy_of(system: System) -> VendorPolicy:
    raw = system.settings.get("purchasing", {})
    return VendorPolicy(
        wins=Winner(raw.get("wins", "invoice")), price_tolerance=Decimal(str(raw.get("price_tolerance", "0")))
    )


class DeskOutcome(msgspec.Struct, kw_only=True):
    invoices: list[StoredInvoice] = []
    acknowledgements: int = 0
    replies: list[str] = []
    errors: list[str] = []


class VendorDesk:
    def __init__(self, hub: Hub, loop: asyncio.AbstractEventLoop) -> None:
        self.hub = hub
        self.loop = loop
        self.store = PurchasingStore(hub.storage)
        self.numbers = StoredControlNumbers(hub.storage, loop)

    def install(self) -> None:
        self.hub.services.extra.setdefault("x12_control_numbers", self.numbers)
        self.hub.services.extra.setdefault("purchase_orders", self.suggested_orders)
        self.hub.services.extra.setdefault("vendor_desk", self)

    # -- purchase orders out ------------------------------------------------------------------
    def suggested_orders(self, system: System, request: ExportRequest) -> list[PurchaseOrder]:
        """The day's purchase orders for ``system`` (runs in the exporter's worker thread)."""
        recipes = str(system.settings.get("recipes", ""))
        if not recipes:
            raise ConfigError(
                f"systems[{system.id}].settings.recipes: name the recipe book with the par levels"
            )
        book = load_book(request.catalog, recipes)
        counts = counts_lookup(request)(request.location.id, request.end_date)
        if counts.closing is None:
            raise TerminalError(
                f"no on-hand count for {request.location.id} {request.end_date}: import the count sheet first"
            )
        stock = on_hand(read_counts(counts.closing, book), book)
        suggested = suggest_purchase_orders(
            stock, book, location_id=request.location.id, business_date=request.end_date
        )
        orders = [_canonical(po, system, request) for po in suggested if po.vendor in ("", system.id)]
        for order in orders:
            _on_loop(self.loop, self.store.record_po(order))
        return orders

    # -- files in -----------------------------------------------------------------------------
    async def receive_file(self, flow: Flow, name: str, data: bytes) -> DeskOutcome:
        system = self.hub.catalog.system(flow.from_)
        connector = self.hub.connector(system.connector) if system else None
        reader = (
            connector.make_importer(self._context(system)) if connector and connector.make_importer else None
        )
        if system is None or reader is None or not hasattr(reader, "read_file"):
            raise ConfigError(
                f"flow {flow.id}: system {flow.from_!r} has no connector that reads vendor files"
            )
        read: VendorFileRead = await asyncio.to_thread(reader.read_file, name, data, flow.format or "x12")
        outcome = DeskOutcome(errors=[str(e) for e in read.errors])
        outcome.replies = await self._reply(flow, system, read.replies)
        for ack in read.acknowledgements:
            await self.store.record_ack(ack)
            outcome.acknowledgements += 1
        for invoice in read.invoices:
            outcome.invoices.append(await self.process_invoice(system, invoice))
        if read.errors and not (read.invoices or read.acknowledgements):
            first = read.errors[0]
            raise RejectedInput(f"{name}: {first.message}", where=first.position.describe(), fix=first.fix)
        return outcome

    async def process_invoice(self, system: System, invoice: Invoice) -> StoredInvoice:
        result = await self.match(system, invoice)
        bill = self.bill(system.id, invoice, result) if result.clean else None
        stored = await self.store.add_invoice(invoice, result, bill)
        if stored.duplicate:
            log.info("duplicate vendor invoice", vendor=system.id, invoice=invoice.invoice_number)
            return stored
        if invoice.kind is InvoiceKind.CREDIT_MEMO:
            await self.store.settle_disputes(invoice)
            await self._book_settled(system)
        if stored.state is InvoiceState.BOOKED:
            await self._update_costs(system.id, invoice, result)
            await self.send_bills_now()
        return stored

    async def send_bills_now(self) -> None:
        """Send what was booked; a failure leaves the bills for the flow's scheduled run (the
        vendor's file was read and booked, it must not go to the failed folder for it)."""
        try:
            await self.send_bills()
        except ExpediterError as exc:
            log.warning("AP bills not sent yet", error=str(exc))

    async def match(self, system: System, invoice: Invoice) -> MatchResult:
        order = await self.store.purchase_order(invoice.po_number) if invoice.po_number else None
        if invoice.kind is InvoiceKind.CREDIT_MEMO:
            order = None
        ack = await self.store.latest_ack(invoice.po_number) if order else None
        received = await self.store.received(invoice.po_number) if order else {}
        result = match_invoice(invoice, order, policy_of(system), ack=ack, received=received)
        if invoice.kind is InvoiceKind.CREDIT_MEMO:  # a credit memo needs no PO: it settles disputes
            result = msgspec.structs.replace(result, exceptions=[])
        return result

    async def resolve(self, exception_id: int, resolution: Resolution, note: str = "") -> StoredInvoice:
        stored = await self.store.resolve(exception_id, resolution, note)
        if stored.state is InvoiceState.APPROVED:
            invoice = await self.store.invoice(stored.id)
            system = self.hub.catalog.system(stored.vendor)
            result = await self.match(system, invoice) if system else match_invoice(invoice, None)
            await self.book(stored, invoice, result)
            stored = msgspec.structs.replace(stored, state=InvoiceState.BOOKED)
        return stored

    async def _book_settled(self, system: System) -> None:
        """Invoices whose last exception a credit memo just settled are booked now."""
        for stored in await self.store.invoices(InvoiceState.APPROVED):
            invoice = await self.store.invoice(stored.id)
            vendor = self.hub.catalog.system(stored.vendor) or system
            await self.book(stored, invoice, await self.match(vendor, invoice))

    # -- booking ------------------------------------------------------------------------------
    def bill(self, vendor_id: str, invoice: Invoice, result: MatchResult) -> APBill:
        vendor = self.hub.catalog.system(vendor_id)
        name = str(vendor.settings.get("vendor_name", "")) if vendor else ""
        return bill_for(invoice, result, self.hub.catalog.mappings.accounts, name or vendor_id)

    async def book(self, stored: StoredInvoice, invoice: Invoice, result: MatchResult) -> None:
        await self._update_costs(stored.vendor, invoice, result)
        await self.store.book(stored.id, self.bill(stored.vendor, invoice, result))
        await self.send_bills_now()

    async def _update_costs(self, vendor_id: str, invoice: Invoice, result: MatchResult) -> None:
        vendor = self.hub.catalog.system(vendor_id)
        recipes = str(vendor.settings.get("recipes", "")) if vendor else ""
        if not recipes or invoice.kind is InvoiceKind.CREDIT_MEMO:
            return
        try:
            book = await asyncio.to_thread(load_book, self.hub.catalog, recipes)
        except ExpediterError as exc:
            log.warning("ingredient costs not updated", vendor=vendor_id, error=str(exc))
            return
        await self.store.update_costs(costs_from_invoice(invoice, result, book))

    async def send_bills(self) -> int:
        """Every bill not sent yet, through each enabled ``ap_bill`` flow; how many went."""
        bills = await self.store.unsent_bills()
        flows = [f for f in self.hub.catalog.flows if f.enabled and f.data == AP_BILL_DATA]
        if not bills or not flows:
            return 0
        for flow in flows:
            await self._send_bills(flow, bills)
        for bill in bills:
            await self.store.mark_sent(bill)
        return len(bills)

    async def _send_bills(self, flow: Flow, bills: list[APBill]) -> None:
        from expediter.engine.jobs import FileJobs

        destination = self.hub.catalog.system(flow.to)
        connector = self.hub.connector(destination.connector) if destination else None
        if destination is None or connector is None or connector.make_exporter is None:
            raise ConfigError(f"flow {flow.id}: {flow.to!r} has no connector that writes bills")
        location = self.hub.catalog.locations[0]
        today = location.business_date_for(clock.now())
        request = ExportRequest(
            catalog=self.hub.catalog,
            location=location,
            start_date=today,
            end_date=today,
            orders=lambda: (),
            punches=lambda: (),
            system=destination,
            extra={AP_BILLS: bills, "flow": flow},
        )
        exporter = connector.make_exporter(self._context(destination))
        files: list[OutputFile] = await asyncio.to_thread(exporter.export, AP_BILL_DATA, request)
        jobs = FileJobs(self.hub)
        transport = jobs.transport_for(flow, destination)
        try:
            for output in files:
                await send_file(
                    transport,
                    output.name,
                    output.data,
                    scope=flow.id,
                    record=self._recorder(flow, output.records),
                )
        finally:
            await transport.close()

    # -- answers to the vendor ----------------------------------------------------------------
    async def _reply(self, flow: Flow, system: System, replies: list[tuple[str, bytes]]) -> list[str]:
        if not replies:
            return []
        from expediter.engine.jobs import FileJobs

        try:
            transport = FileJobs(self.hub).transport_for(flow, system)
        except ExpediterError as exc:
            log.warning("997 not sent", flow=flow.id, error=str(exc))
            return []
        sent = []
        try:
            for name, body in replies:
                await send_file(transport, name, body, scope=f"{flow.id}:997", record=self._recorder(flow, 1))
                sent.append(name)
        except ExpediterError as exc:
            log.warning("997 not sent", flow=flow.id, error=str(exc))
        finally:
            await transport.close()
        return sent

    def _recorder(self, flow: Flow, records: int) -> Callable[[TransferRecord], Coroutine[Any, Any, None]]:
        async def record(file: TransferRecord) -> None:
            await self.hub.ledger.record(
                Transfer(
                    flow_id=flow.id,
                    direction=Direction.OUT,
                    level=Level.FILE,
                    transport=flow.transport,
                    endpoint=file.endpoint,
                    file_name=file.name,
                    remote_ref=file.name,
                    started_at=file.started_at,
                    finished_at=clock.now(),
                    outcome=TransferOutcome.FAILED if file.error else TransferOutcome.SUCCEEDED,
                    records=0 if file.error else records,
                    bytes=file.bytes,
                    checksum=file.checksum,
                    error=file.error,
                )
            )

        return record

    def _context(self, system: System | None) -> ConnectorContext:
        assert system is not None
        return ConnectorContext(catalog=self.hub.catalog, system=system, services=self.hub.services)


def _canonical(po: Any, system: System, request: ExportRequest) -> PurchaseOrder:
    """A suggested order (cases of ingredients) as the canonical purchase order."""
    lines = [
        POLine(
            line_number=str(number),
            item=ItemIds(vendor_item=line.vendor_item, buyer_item=line.ingredient),
            description=line.description,
            quantity=Decimal(line.cases),
            unit="CA",
            unit_price=Decimal(line.case_cost.amount) / 100,
            ingredient=line.ingredient,
            size=line.case_size,
            size_unit=line.case_unit.value.upper(),
        )
        for number, line in enumerate(po.lines, 1)
    ]
    ship_name = str(system.settings.get("ship_to_name", "")) or request.location.name
    from expediter.model.vendors import Party

    return PurchaseOrder(
        po_number=po.po_number,
        order_date=po.business_date,
        vendor=system.id,
        location_id=po.location_id,
        lines=lines,
        currency=po.total.currency if isinstance(po.total, Money) else "USD",
        ship_to=Party(role="ST", name=ship_name, id_qualifier="92", id=po.location_id),
    )


def desk_of(hub: Hub) -> VendorDesk:
    """The hub's vendor desk, installed on first use (on the running event loop)."""
    desk = hub.services.extra.get("vendor_desk")
    if desk is None:
        desk = VendorDesk(hub, asyncio.get_running_loop())
        desk.install()
    found: VendorDesk = desk
    return found


def today_for(hub: Hub) -> date:
    return hub.catalog.locations[0].business_date_for(clock.now())


async def bills_extra(desk: VendorDesk, flow: Flow) -> dict[str, Any] | None:
    """For a scheduled ``ap_bill`` run: the bills not sent yet (after a failed send)."""
    if flow.data != AP_BILL_DATA:
        return None
    return {AP_BILLS: await desk.store.unsent_bills(), "flow": flow}


async def bills_sent(desk: VendorDesk, flow: Flow) -> None:
    if flow.data == AP_BILL_DATA:
        for bill in await desk.store.unsent_bills():
            await desk.store.mark_sent(bill)
