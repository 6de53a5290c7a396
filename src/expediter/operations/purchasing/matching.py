"""Invoices matched to their purchase orders, line by line, into exceptions a manager resolves.

Each invoice line is paired with a PO line: by the PO line the vendor names (REF*LI), else by
item id (vendor item, UPC, our ingredient id), else through the vendor's acknowledgement (an 855
substitution names the PO line it replaces). Then:

========================  ==========================================================
``short``                 fewer units billed than ordered (or than received, see policy)
``over``                  more units billed than ordered or received
``price``                 unit price differs from the PO's by more than the tolerance
``substitution``          another product than ordered (from the 855 or REF*LI)
``unordered``             an item on no line of the PO
``not_invoiced``          a PO line the invoice does not bill (a short of the whole line)
``no_po``                 the invoice names no PO we sent (or none at all)
``total``                 the vendor's stated total differs from its own lines
========================  ==========================================================

A catch-weight line (sold by the case, priced by the pound) is matched on cases and price per
pound; its weight varies by nature and is not an exception.

The per-vendor :class:`VendorPolicy` says whose count wins: with ``invoice`` the invoice's
quantities are what is owed; with ``receiver`` the receiving count is, and billing more than was
received is an ``over`` exception whatever the PO said.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum

import msgspec

from expediter.model.money import Money
from expediter.model.vendors import (
    AckStatus,
    Invoice,
    InvoiceLine,
    POAcknowledgement,
    POLine,
    PurchaseOrder,
    money_of,
)


class Winner(StrEnum):
    INVOICE = "invoice"
    RECEIVER = "receiver"


class VendorPolicy(msgspec.Struct, frozen=True, kw_only=True):
    wins: Winner = Winner.INVOICE
    price_tolerance: Decimal = Decimal(0)
    """How far a unit price may differ from the PO's (major units, e.g. 0.05) without an exception."""


class ExceptionKind(StrEnum):
    SHORT = "short"
    OVER = "over"
    PRICE = "price"
    SUBSTITUTION = "substitution"
    UNORDERED = "unordered"
    NOT_INVOICED = "not_invoiced"
    NO_PO = "no_po"
    TOTAL = "total"


class LineStatus(StrEnum):
    MATCHED = "matched"
    EXCEPTION = "exception"
    UNORDERED = "unordered"


class InvoiceException(msgspec.Struct, frozen=True, kw_only=True):
    kind: ExceptionKind
    line_number: str
    """The invoice line ('' for the whole invoice or a PO line not billed)."""
    po_line: str
    message: str
    amount: Money
    """What it is worth: positive when the vendor bills more than agreed."""


class LineMatch(msgspec.Struct, frozen=True, kw_only=True):
    line_number: str
    po_line: str
    status: LineStatus
    ingredient: str
    quantity: Decimal
    """Units owed under the policy."""
    unit: str
    amount: Money
    """The line's net amount as billed."""
    catch_weight: Decimal | None = None


class MatchResult(msgspec.Struct, frozen=True, kw_only=True):
    invoice_number: str
    vendor: str
    po_number: str
    lines: list[LineMatch]
    exceptions: list[InvoiceException]

    @property
    def clean(self) -> bool:
        return not self.exceptions


def _by_item(order: PurchaseOrder) -> dict[str, POLine]:
    index: dict[str, POLine] = {}
    for line in order.lines:
        for key in [*line.item.ids(), line.ingredient]:
            if key:
                index.setdefault(key, line)
    return index


def _substitutes(ack: POAcknowledgement | None) -> dict[str, str]:
    """Substitute item id → the PO line it replaces, from the vendor's 855."""
    found: dict[str, str] = {}
    for line in ack.lines if ack else []:
        if line.status is AckStatus.SUBSTITUTED and line.substitute is not None:
            for key in line.substitute.ids():
                found[key] = line.line_number
    return found


class _Matcher:
    def __init__(
        self,
        invoice: Invoice,
        order: PurchaseOrder,
        policy: VendorPolicy,
        ack: POAcknowledgement | None,
        received: Mapping[str, Decimal],
    ) -> None:
        self.invoice = invoice
        self.order = order
        self.policy = policy
        self.received = received
        self.po_lines = {line.line_number: line for line in order.lines}
        self.items = _by_item(order)
        self.substitutes = _substitutes(ack)
        self.used: set[str] = set()
        self.exceptions: list[InvoiceException] = []

    def money(self, major: Decimal) -> Money:
        return money_of(major, self.invoice.currency)

    def flag(self, kind: ExceptionKind, line: str, po_line: str, message: str, major: Decimal) -> None:
        self.exceptions.append(
            InvoiceException(
                kind=kind, line_number=line, po_line=po_line, message=message, amount=self.money(major)
            )
        )

    def find(self, line: InvoiceLine) -> tuple[POLine | None, bool]:
        """The PO line ``line`` bills, and whether it is a substitution."""
        keys = line.item.ids()
        named = self.po_lines.get(line.po_line) if line.po_line else None
        by_item = next((self.items[k] for k in keys if k in self.items), None)
        if by_item is not None and by_item.line_number not in self.used:
            return by_item, False
        if named is not None and named.line_number not in self.used:
            return named, by_item is None
        sub = next((self.substitutes[k] for k in keys if k in self.substitutes), None)
        if sub is not None and sub in self.po_lines and sub not in self.used:
            return self.po_lines[sub], True
        return None, False

    def line(self, line: InvoiceLine) -> LineMatch:
        po_line, substituted = self.find(line)
        if po_line is None:
            self.flag(
                ExceptionKind.UNORDERED,
                line.line_number,
                "",
                f"line {line.line_number}: {line.description or line.item.ids()} was not ordered",
                Decimal(line.net().amount) / 100,
            )
            return self.result(line, None, LineStatus.UNORDERED, line.quantity)
        self.used.add(po_line.line_number)
        before = len(self.exceptions)
        if substituted:
            self.flag(
                ExceptionKind.SUBSTITUTION,
                line.line_number,
                po_line.line_number,
                f"line {line.line_number}: {_named(line.item.ids(), line.description)} instead of"
                f" {_named(po_line.item.ids(), po_line.description)}",
                Decimal(0),
            )
        owed = self.quantities(line, po_line)
        self.prices(line, po_line)
        status = LineStatus.MATCHED if len(self.exceptions) == before else LineStatus.EXCEPTION
        return self.result(line, po_line, status, owed)

    def quantities(self, line: InvoiceLine, po_line: POLine) -> Decimal:
        received = self.received.get(po_line.line_number)
        if self.policy.wins is Winner.RECEIVER and received is not None:
            if line.quantity > received:
                self.flag(
                    ExceptionKind.OVER,
                    line.line_number,
                    po_line.line_number,
                    f"line {line.line_number}: {line.quantity} {line.unit} billed, {received} received",
                    (line.quantity - received) * line.unit_price,
                )
            return min(line.quantity, received)
        if line.quantity < po_line.quantity:
            self.flag(
                ExceptionKind.SHORT,
                line.line_number,
                po_line.line_number,
                f"line {line.line_number}: {line.quantity} of {po_line.quantity} {po_line.unit} ordered",
                Decimal(0),
            )
        elif line.quantity > po_line.quantity:
            self.flag(
                ExceptionKind.OVER,
                line.line_number,
                po_line.line_number,
                f"line {line.line_number}: {line.quantity} billed, {po_line.quantity} {po_line.unit} ordered",
                (line.quantity - po_line.quantity) * line.unit_price,
            )
        return line.quantity

    def prices(self, line: InvoiceLine, po_line: POLine) -> None:
        difference = line.unit_price - po_line.unit_price
        if abs(difference) <= self.policy.price_tolerance:
            return
        billed = line.catch_weight if line.catch_weight is not None else line.quantity
        per = f" per {line.price_unit}" if line.price_unit else ""
        self.flag(
            ExceptionKind.PRICE,
            line.line_number,
            po_line.line_number,
            f"line {line.line_number}: {_price(line.unit_price)}{per} billed,"
            f" {_price(po_line.unit_price)} on the PO",
            difference * billed,
        )

    def result(
        self, line: InvoiceLine, po_line: POLine | None, status: LineStatus, owed: Decimal
    ) -> LineMatch:
        return LineMatch(
            line_number=line.line_number,
            po_line=po_line.line_number if po_line else "",
            status=status,
            ingredient=po_line.ingredient if po_line else "",
            quantity=owed,
            unit=line.unit,
            amount=line.net(),
            catch_weight=line.catch_weight,
        )

    def missing_lines(self) -> None:
        for po_line in self.order.lines:
            if po_line.line_number not in self.used:
                self.flag(
                    ExceptionKind.NOT_INVOICED,
                    "",
                    po_line.line_number,
                    f"PO line {po_line.line_number} ({po_line.description or po_line.item.ids()}) is not on"
                    " the invoice",
                    Decimal(0),
                )


def _named(ids: list[str], description: str) -> str:
    item = ids[0] if ids else "an item without id"
    return f"{item} ({description})" if description else item


def _price(value: Decimal) -> str:
    """A unit price as people read it: at least two decimals (22.5 → 22.50, 2.3456 stays)."""
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)


def _total_exception(invoice: Invoice) -> InvoiceException | None:
    if invoice.stated_total is None or invoice.stated_total == invoice.computed_total():
        return None
    difference = invoice.stated_total - invoice.computed_total()
    return InvoiceException(
        kind=ExceptionKind.TOTAL,
        line_number="",
        po_line="",
        message=f"the stated total {invoice.stated_total.format()} differs from the lines,"
        f" allowances, charges and tax ({invoice.computed_total().format()})",
        amount=difference,
    )


def match_invoice(
    invoice: Invoice,
    order: PurchaseOrder | None,
    policy: VendorPolicy | None = None,
    *,
    ack: POAcknowledgement | None = None,
    received: Mapping[str, Decimal] | None = None,
) -> MatchResult:
    """Every line of ``invoice`` against ``order``; ``received`` counts by PO line number."""
    policy = policy or VendorPolicy()
    total_problem = _total_exception(invoice)
    if order is None:
        po = invoice.po_number or "none"
        exceptions = [
            InvoiceException(
                kind=ExceptionKind.NO_PO,
                line_number="",
                po_line="",
                message=f"invoice {invoice.invoice_number} names purchase order {po}, which was not sent to"
                f" {invoice.vendor}",
                amount=invoice.amount_due(),
            )
        ]
        return MatchResult(
            invoice_number=invoice.invoice_number,
            vendor=invoice.vendor,
            po_number=invoice.po_number,
            lines=[],
            exceptions=exceptions + ([total_problem] if total_problem else []),
        )
    matcher = _Matcher(invoice, order, policy, ack, received or {})
    lines = [matcher.line(line) for line in invoice.lines]
    matcher.missing_lines()
    if total_problem is not None:
        matcher.exceptions.append(total_problem)
    return MatchResult(
        invoice_number=invoice.invoice_number,
        vendor=invoice.vendor,
        po_number=order.po_number,
        lines=lines,
        exceptions=matcher.exceptions,
    )
