"""What purchasing keeps in the hub's database: POs sent, acknowledgements, receipts, invoices,
their exceptions, AP bills (once per vendor invoice number) and the latest ingredient costs.

Invoice states: ``exceptions`` (an exception is open), ``approved`` (none open; waiting to be
booked), ``booked`` (its AP bill is written). Exception states: ``open``, ``accepted`` (the
manager accepts what the vendor billed), ``disputed`` (rejected; a credit memo is expected),
``settled`` (a credit memo came). A disputed exception does not hold the invoice: the bill is for
what the vendor billed and the credit memo is booked against it, as AP departments do.

Documents are kept as zlib-compressed JSON of the canonical model (``payload`` columns; read them
with ``zlib.decompress``): a 200-line invoice is 38 KB of JSON and 5 KB packed.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

import msgspec

from expediter.errors import RejectedInput
from expediter.model.money import Money
from expediter.model.vendors import APBill, Invoice, InvoiceKind, POAcknowledgement, PurchaseOrder
from expediter.operations.purchasing.matching import ExceptionKind, MatchResult
from expediter.storage.base import Row, Storage, Tx, now_iso


class InvoiceState(StrEnum):
    EXCEPTIONS = "exceptions"
    APPROVED = "approved"
    BOOKED = "booked"


class ExceptionState(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DISPUTED = "disputed"
    SETTLED = "settled"


class Resolution(StrEnum):
    ACCEPT = "accept"
    DISPUTE = "dispute"


class StoredInvoice(msgspec.Struct, kw_only=True):
    id: int
    vendor: str
    invoice_number: str
    kind: InvoiceKind
    po_number: str
    state: InvoiceState
    duplicate: bool = False


class StoredException(msgspec.Struct, kw_only=True):
    id: int
    invoice_id: int
    vendor: str
    invoice_number: str
    kind: ExceptionKind
    line_number: str
    po_line: str
    message: str
    amount: Money
    state: ExceptionState
    resolution: str
    created_at: datetime


class IngredientCost(msgspec.Struct, frozen=True, kw_only=True):
    ingredient: str
    unit: str
    unit_cost: Decimal
    currency: str
    vendor: str
    invoice_number: str
    invoice_date: date


_ENCODER = msgspec.json.Encoder()
T = TypeVar("T")


def _pack(item: msgspec.Struct) -> bytes:
    """JSON, zlib-compressed: a 200-line invoice is 38 KB of JSON and 5 KB packed, and the write
    of the bytes costs more than packing them."""
    return zlib.compress(_ENCODER.encode(item), 1)


def _unpack(blob: bytes, kind: type[T]) -> T:
    return msgspec.json.decode(zlib.decompress(bytes(blob)), type=kind)


_EXCEPTION_COLUMNS = (
    "e.id, e.invoice_id, i.vendor, i.invoice_number, e.kind, e.line_number, e.po_line, e.message,"
    " e.amount, e.currency, e.state, e.resolution, e.created_at"
)


def _exception(row: Row) -> StoredException:
    return StoredException(
        id=row["id"],
        invoice_id=row["invoice_id"],
        vendor=row["vendor"],
        invoice_number=row["invoice_number"],
        kind=ExceptionKind(row["kind"]),
        line_number=row["line_number"],
        po_line=row["po_line"],
        message=row["message"],
        amount=Money(row["amount"], row["currency"]),
        state=ExceptionState(row["state"]),
        resolution=row["resolution"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def _stored(row: Row, duplicate: bool = False) -> StoredInvoice:
    return StoredInvoice(
        id=row["id"],
        vendor=row["vendor"],
        invoice_number=row["invoice_number"],
        kind=InvoiceKind(row["kind"]),
        po_number=row["po_number"],
        state=InvoiceState(row["state"]),
        duplicate=duplicate,
    )


class PurchasingStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # -- purchase orders and what the vendor said ---------------------------------------------
    async def record_po(self, order: PurchaseOrder) -> None:
        sql = (
            "INSERT INTO purchase_orders (po_number, vendor, location_id, order_date, sent_at, payload)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (po_number) DO NOTHING"
        )
        params = [
            order.po_number,
            order.vendor,
            order.location_id,
            order.order_date.isoformat(),
            now_iso(),
            _pack(order),
        ]
        await self.storage.write(lambda tx: tx.execute(sql, params))

    async def purchase_order(self, po_number: str) -> PurchaseOrder | None:
        def query(tx: Tx) -> PurchaseOrder | None:
            row = tx.one("SELECT payload FROM purchase_orders WHERE po_number = ?", [po_number])
            return _unpack(row["payload"], PurchaseOrder) if row else None

        return await self.storage.read(query)

    async def purchase_orders(self, limit: int = 50) -> list[PurchaseOrder]:
        def query(tx: Tx) -> list[PurchaseOrder]:
            rows = tx.all("SELECT payload FROM purchase_orders ORDER BY sent_at DESC LIMIT ?", [limit])
            return [_unpack(r["payload"], PurchaseOrder) for r in rows]

        return await self.storage.read(query)

    async def record_ack(self, ack: POAcknowledgement) -> None:
        sql = "INSERT INTO po_acknowledgements (po_number, vendor, received_at, payload) VALUES (?, ?, ?, ?)"
        params = [ack.po_number, ack.vendor, now_iso(), _pack(ack)]
        await self.storage.write(lambda tx: tx.execute(sql, params))

    async def latest_ack(self, po_number: str) -> POAcknowledgement | None:
        def query(tx: Tx) -> POAcknowledgement | None:
            row = tx.one(
                "SELECT payload FROM po_acknowledgements WHERE po_number = ? ORDER BY id DESC LIMIT 1",
                [po_number],
            )
            return _unpack(row["payload"], POAcknowledgement) if row else None

        return await self.storage.read(query)

    async def receive(self, po_number: str, line_number: str, quantity: Decimal) -> None:
        sql = (
            "INSERT INTO po_receipts (po_number, line_number, quantity, received_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (po_number, line_number) DO UPDATE SET quantity = excluded.quantity,"
            " received_at = excluded.received_at"
        )
        params = [po_number, line_number, str(quantity), now_iso()]
        await self.storage.write(lambda tx: tx.execute(sql, params))

    async def received(self, po_number: str) -> dict[str, Decimal]:
        def query(tx: Tx) -> dict[str, Decimal]:
            rows = tx.all("SELECT line_number, quantity FROM po_receipts WHERE po_number = ?", [po_number])
            return {r["line_number"]: Decimal(r["quantity"]) for r in rows}

        return await self.storage.read(query)

    # -- invoices and exceptions --------------------------------------------------------------
    async def add_invoice(
        self, invoice: Invoice, result: MatchResult, bill: APBill | None = None
    ) -> StoredInvoice:
        """Store ``invoice`` and its exceptions once; the same vendor, number and kind again is a
        duplicate and changes nothing. With ``bill`` (an invoice without exceptions) it is booked
        in the same transaction."""

        packed = _pack(invoice)  # outside the write: the writer's transaction stays short
        packed_bill = _pack(bill) if bill is not None else b""

        def work(tx: Tx) -> StoredInvoice:
            stored = _add_invoice(tx, invoice, result, packed)
            if bill is not None and not stored.duplicate and stored.state is InvoiceState.APPROVED:
                _book(tx, stored.id, bill, packed_bill)
                stored = msgspec.structs.replace(stored, state=InvoiceState.BOOKED)
            return stored

        return await self.storage.write(work)

    async def invoice(self, invoice_id: int) -> Invoice:
        def query(tx: Tx) -> Invoice:
            row = tx.one("SELECT payload FROM vendor_invoices WHERE id = ?", [invoice_id])
            if row is None:
                raise RejectedInput(
                    f"no invoice {invoice_id}", fix="`expediter purchasing invoices` lists them"
                )
            return _unpack(row["payload"], Invoice)

        return await self.storage.read(query)

    async def invoices(self, state: InvoiceState | None = None, limit: int = 100) -> list[StoredInvoice]:
        where = "WHERE state = ?" if state else ""
        params: list[object] = [state.value] if state else []

        def query(tx: Tx) -> list[StoredInvoice]:
            sql = f"SELECT * FROM vendor_invoices {where} ORDER BY id DESC LIMIT ?"
            return [_stored(r) for r in tx.all(sql, [*params, limit])]

        return await self.storage.read(query)

    async def exceptions(
        self, states: Iterable[ExceptionState] = (ExceptionState.OPEN,)
    ) -> list[StoredException]:
        wanted = [s.value for s in states]
        marks = ", ".join("?" for _ in wanted)
        sql = (
            f"SELECT {_EXCEPTION_COLUMNS} FROM invoice_exceptions e JOIN vendor_invoices i"
            f" ON i.id = e.invoice_id WHERE e.state IN ({marks}) ORDER BY e.id"
        )
        return await self.storage.read(lambda tx: [_exception(r) for r in tx.all(sql, wanted)])

    async def resolve(self, exception_id: int, resolution: Resolution, note: str = "") -> StoredInvoice:
        return await self.storage.write(lambda tx: _resolve(tx, exception_id, resolution, note))

    async def settle_disputes(self, memo: Invoice) -> list[int]:
        """A credit memo settles the vendor's disputed exceptions on the invoice it names (or on
        invoices of the same PO); the ids settled."""
        return await self.storage.write(lambda tx: _settle(tx, memo))

    # -- bills and costs ----------------------------------------------------------------------
    async def book(self, invoice_id: int, bill: APBill) -> bool:
        """Keep ``bill`` once per vendor and invoice number and mark the invoice booked; False when
        it was booked before."""
        packed = _pack(bill)
        return await self.storage.write(lambda tx: _book(tx, invoice_id, bill, packed))

    async def unsent_bills(self) -> list[APBill]:
        def query(tx: Tx) -> list[APBill]:
            rows = tx.all("SELECT payload FROM ap_bills WHERE sent_at IS NULL ORDER BY created_at")
            return [_unpack(r["payload"], APBill) for r in rows]

        return await self.storage.read(query)

    async def mark_sent(self, bill: APBill) -> None:
        sql = "UPDATE ap_bills SET sent_at = ? WHERE vendor = ? AND bill_number = ? AND kind = ?"
        params = [now_iso(), bill.vendor, bill.bill_number, bill.kind.value]
        await self.storage.write(lambda tx: tx.execute(sql, params))

    async def bills(self) -> list[APBill]:
        def query(tx: Tx) -> list[APBill]:
            rows = tx.all("SELECT payload FROM ap_bills ORDER BY created_at")
            return [_unpack(r["payload"], APBill) for r in rows]

        return await self.storage.read(query)

    async def update_costs(self, costs: Iterable[IngredientCost]) -> None:
        rows = [
            [
                c.ingredient,
                c.unit,
                str(c.unit_cost),
                c.currency,
                c.vendor,
                c.invoice_number,
                c.invoice_date.isoformat(),
            ]
            for c in costs
        ]
        sql = (
            "INSERT INTO ingredient_costs (ingredient, unit, unit_cost, currency, vendor, invoice_number,"
            " invoice_date, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (ingredient) DO UPDATE SET"
            " unit = excluded.unit, unit_cost = excluded.unit_cost, currency = excluded.currency,"
            " vendor = excluded.vendor, invoice_number = excluded.invoice_number,"
            " invoice_date = excluded.invoice_date, updated_at = excluded.updated_at"
            " WHERE excluded.invoice_date >= ingredient_costs.invoice_date"
        )

        def write(tx: Tx) -> None:
            stamp = now_iso()
            for row in rows:
                tx.execute(sql, [*row, stamp])

        await self.storage.write(write)

    async def costs(self) -> dict[str, IngredientCost]:
        return await self.storage.read(costs_from)


def costs_from(tx: Tx) -> dict[str, IngredientCost]:
    rows = tx.all("SELECT * FROM ingredient_costs")
    return {
        r["ingredient"]: IngredientCost(
            ingredient=r["ingredient"],
            unit=r["unit"],
            unit_cost=Decimal(r["unit_cost"]),
            currency=r["currency"],
            vendor=r["vendor"],
            invoice_number=r["invoice_number"],
            invoice_date=date.fromisoformat(r["invoice_date"]),
        )
        for r in rows
    }


def _add_invoice(tx: Tx, invoice: Invoice, result: MatchResult, packed: bytes) -> StoredInvoice:
    state = InvoiceState.EXCEPTIONS if result.exceptions else InvoiceState.APPROVED
    new_id = tx.insert(
        "INSERT INTO vendor_invoices (vendor, invoice_number, kind, po_number, state, received_at, source,"
        " payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (vendor, invoice_number, kind) DO NOTHING",
        [
            invoice.vendor,
            invoice.invoice_number,
            invoice.kind.value,
            invoice.po_number,
            state.value,
            now_iso(),
            invoice.source,
            packed,
        ],
    )
    if new_id is None:
        row = tx.one(
            "SELECT * FROM vendor_invoices WHERE vendor = ? AND invoice_number = ? AND kind = ?",
            [invoice.vendor, invoice.invoice_number, invoice.kind.value],
        )
        return _stored(row, duplicate=True)
    stamp = now_iso()
    for found in result.exceptions:
        tx.execute(
            "INSERT INTO invoice_exceptions (invoice_id, kind, line_number, po_line, message, amount,"
            " currency, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                new_id,
                found.kind.value,
                found.line_number,
                found.po_line,
                found.message,
                found.amount.amount,
                found.amount.currency,
                ExceptionState.OPEN.value,
                stamp,
            ],
        )
    return StoredInvoice(
        id=new_id,
        vendor=invoice.vendor,
        invoice_number=invoice.invoice_number,
        kind=invoice.kind,
        po_number=invoice.po_number,
        state=state,
    )


def _refresh_state(tx: Tx, invoice_id: int) -> StoredInvoice:
    row: Row = tx.one("SELECT * FROM vendor_invoices WHERE id = ?", [invoice_id])
    open_left: Row = tx.one(
        "SELECT COUNT(*) AS n FROM invoice_exceptions WHERE invoice_id = ? AND state = ?",
        [invoice_id, ExceptionState.OPEN.value],
    )
    if row["state"] == InvoiceState.EXCEPTIONS.value and open_left is not None and open_left["n"] == 0:
        tx.execute(
            "UPDATE vendor_invoices SET state = ? WHERE id = ?", [InvoiceState.APPROVED.value, invoice_id]
        )
        row = tx.one("SELECT * FROM vendor_invoices WHERE id = ?", [invoice_id])
    return _stored(row)


def _resolve(tx: Tx, exception_id: int, resolution: Resolution, note: str) -> StoredInvoice:
    row = tx.one("SELECT invoice_id, state FROM invoice_exceptions WHERE id = ?", [exception_id])
    if row is None:
        raise RejectedInput(
            f"no exception {exception_id}", fix="`expediter purchasing exceptions` lists the open ones"
        )
    if row["state"] != ExceptionState.OPEN.value:
        raise RejectedInput(f"exception {exception_id} is {row['state']} already", fix="nothing to do")
    state = ExceptionState.ACCEPTED if resolution is Resolution.ACCEPT else ExceptionState.DISPUTED
    tx.execute(
        "UPDATE invoice_exceptions SET state = ?, resolution = ?, resolved_at = ? WHERE id = ?",
        [state.value, note or resolution.value, now_iso(), exception_id],
    )
    return _refresh_state(tx, row["invoice_id"])


def _settle(tx: Tx, memo: Invoice) -> list[int]:
    targets = tx.all(
        "SELECT id FROM vendor_invoices WHERE vendor = ? AND kind = ? AND (invoice_number = ? OR"
        " (? <> '' AND po_number = ?))",
        [memo.vendor, InvoiceKind.INVOICE.value, memo.original_invoice, memo.po_number, memo.po_number],
    )
    ids = [t["id"] for t in targets]
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    disputed = tx.all(
        f"SELECT id FROM invoice_exceptions WHERE state IN (?, ?) AND invoice_id IN ({marks}) ORDER BY id",
        [ExceptionState.DISPUTED.value, ExceptionState.OPEN.value, *ids],
    )
    settled = [d["id"] for d in disputed]
    for exception_id in settled:
        tx.execute(
            "UPDATE invoice_exceptions SET state = ?, resolution = ?, resolved_at = ? WHERE id = ?",
            [ExceptionState.SETTLED.value, f"credit memo {memo.invoice_number}", now_iso(), exception_id],
        )
    for invoice_id in ids:
        _refresh_state(tx, invoice_id)
    return settled


def _book(tx: Tx, invoice_id: int, bill: APBill, packed: bytes) -> bool:
    key = [bill.vendor, bill.bill_number, bill.kind.value]
    known = tx.one("SELECT 1 AS known FROM ap_bills WHERE vendor = ? AND bill_number = ? AND kind = ?", key)
    if known is None:
        tx.execute(
            "INSERT INTO ap_bills (vendor, bill_number, kind, created_at, payload) VALUES (?, ?, ?, ?, ?)",
            [*key, now_iso(), packed],
        )
    tx.execute(
        "UPDATE vendor_invoices SET state = ?, booked_at = COALESCE(booked_at, ?) WHERE id = ?",
        [InvoiceState.BOOKED.value, now_iso(), invoice_id],
    )
    return known is None
