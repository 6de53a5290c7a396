"""810 invoices and 880 grocery invoices → the canonical :class:`~expediter.model.vendors.Invoice`.

810 (X12 4010/5010): BIG (dates, invoice and PO numbers; BIG07 ``CR``/``CN`` = credit memo), CUR,
REF (``PO``, ``OI`` original invoice), N1 loops (N1/N2/N3/N4), ITD terms, IT1 lines with PID
descriptions, PO4 packs, MEA weights and line SAC/TXI; TDS (two implied decimals), header SAC/TXI.

Catch weight: a line billed by the case but priced by the pound says so with IT105 ``PP`` (price
per pound) or ``LB``, or with a price unit of ``LB`` while IT103 counts cases; the weight shipped
comes from a MEA (``WT``/``G``/``N``) in the line's loop. Such a line's amount is weight × price.

Summary-level SAC and TXI that only restate the line-level ones (same code, same total: Ariba
does this) are not counted twice.

880 (UCS grocery): G01 (dates and numbers), N1 loops, G17 lines (quantity, unit, unit cost, case
UPC, product ids) with G69 descriptions, G20 packs and G72 allowances or charges (signed: a
negative G7208 is an allowance), G33 total (two implied decimals).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec

from expediter.formats.x12.reader import Segment, Transaction
from expediter.formats.x12.values import Where, item_ids
from expediter.model.money import Money, total
from expediter.model.vendors import (
    AllowanceCharge,
    AllowanceOrCharge,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    ItemIds,
    Party,
    money_of,
)

CREDIT_CODES = frozenset({"CR", "CN"})
WEIGHT_PRICED = frozenset({"PP", "LB"})
WEIGHT_MEASURES = frozenset({"WT", "G", "N", "SW"})
LINE_DETAIL = frozenset({"PID", "PO4", "MEA", "REF"})
_SAC_KINDS = {"A": AllowanceOrCharge.ALLOWANCE, "C": AllowanceOrCharge.CHARGE}


class _Line:
    """An invoice line being read (IT1 or G17 and the segments of its loop)."""

    __slots__ = (
        "adjustments",
        "description",
        "item",
        "number",
        "po_line",
        "price",
        "price_basis",
        "quantity",
        "segment",
        "tax",
        "unit",
        "weight",
    )

    def __init__(
        self, segment: Segment, number: str, item: ItemIds, quantity: Decimal, unit: str, price: Decimal
    ):
        self.segment = segment
        self.number = number
        self.item = item
        self.quantity = quantity
        self.unit = unit
        self.price = price
        self.price_basis = ""
        self.description = ""
        self.weight: Decimal | None = None
        self.adjustments: list[AllowanceCharge] = []
        self.tax = Money(0)
        self.po_line = ""

    def build(self, currency: str) -> InvoiceLine:
        catch = self.weight is not None and (self.price_basis in WEIGHT_PRICED)
        billed = self.weight if catch and self.weight is not None else self.quantity
        return InvoiceLine(
            line_number=self.number,
            item=self.item,
            description=self.description,
            quantity=self.quantity,
            unit=self.unit,
            unit_price=self.price,
            amount=money_of(billed * self.price, currency),
            allowances_charges=self.adjustments,
            catch_weight=self.weight if catch else None,
            price_unit="LB" if catch else "",
            po_line=self.po_line,
        )


class _Builder:
    """What both invoice sets share: parties, header/line/summary adjustments, totals."""

    def __init__(self, text: str, transaction: Transaction, sender: str) -> None:
        self.where = Where(text, transaction)
        self.transaction = transaction
        self.sender = sender
        self.currency = "USD"
        self.number = ""
        self.invoice_date: date | None = None
        self.po_number = ""
        self.kind = InvoiceKind.INVOICE
        self.parties: list[Party] = []
        self.lines: list[_Line] = []
        self.line: _Line | None = None
        self.summary = False
        self.header_adjustments: list[AllowanceCharge] = []
        self.summary_adjustments: list[AllowanceCharge] = []
        self.header_tax: list[Money] = []
        self.stated_total: Money | None = None
        self.terms: list[str] = []
        self.original_invoice = ""

    def party(self, segment: Segment) -> None:
        if segment.id == "N1":
            self.parties.append(
                Party(role=segment[1], name=segment[2], id_qualifier=segment[3], id=segment[4])
            )
            return
        if not self.parties or self.line is not None:
            return  # N1 loops inside a line (ship-from per line) are not kept
        last = self.parties[-1]
        if segment.id == "N2":
            last = _replace(last, name=" ".join(x for x in (last.name, segment[1], segment[2]) if x))
        elif segment.id == "N3":
            last = _replace(last, address=[*last.address, *(x for x in (segment[1], segment[2]) if x)])
        elif segment.id == "N4":
            last = _replace(
                last, city=segment[1], state=segment[2], postal_code=segment[3], country=segment[4]
            )
        self.parties[-1] = last

    def adjustment(self, kind: AllowanceOrCharge, code: str, amount: Money, description: str) -> None:
        found = AllowanceCharge(kind=kind, code=code, amount=amount, description=description)
        if self.summary:
            self.summary_adjustments.append(found)
        elif self.line is not None:
            self.line.adjustments.append(found)
        else:
            self.header_adjustments.append(found)

    def tax(self, amount: Money) -> None:
        if self.line is not None and not self.summary:
            self.line.tax = self.line.tax + amount
        else:
            self.header_tax.append(amount)

    def add_line(self, line: _Line) -> None:
        self.lines.append(line)
        self.line = line

    def finish(self, source: str) -> Invoice:
        first = self.transaction.segments[0]
        if not self.number or self.invoice_date is None:
            raise self.where.error(
                first, 0, "the invoice has no invoice number or date", "send BIG (810) or G01 (880) first"
            )
        lines = [line.build(self.currency) for line in self.lines]
        header = self.header_adjustments + _not_restated(self.summary_adjustments, lines)
        line_tax = total((line.tax for line in self.lines), self.currency)
        summary_tax = total(self.header_tax, self.currency)
        tax = summary_tax if self.header_tax else line_tax
        kind = self.kind
        stated = self.stated_total
        if stated is not None and stated.amount < 0:
            kind, stated = InvoiceKind.CREDIT_MEMO, -stated
        return Invoice(
            invoice_number=self.number,
            invoice_date=self.invoice_date,
            vendor=self.sender,
            lines=lines,
            currency=self.currency,
            kind=kind,
            po_number=self.po_number,
            allowances_charges=header,
            tax=Money(tax.amount, self.currency) if not tax.is_zero() else None,
            stated_total=Money(stated.amount, self.currency) if stated is not None else None,
            parties=self.parties,
            terms="; ".join(self.terms),
            original_invoice=self.original_invoice,
            source=source,
        )


def _replace(party: Party, **changes: Any) -> Party:
    return msgspec.structs.replace(party, **changes)


def _not_restated(summary: list[AllowanceCharge], lines: Iterable[InvoiceLine]) -> list[AllowanceCharge]:
    """Summary adjustments, less those that restate the lines' own (same code and kind, same sum)."""
    by_code: dict[tuple[str, AllowanceOrCharge], int] = {}
    for line in lines:
        for ac in line.allowances_charges:
            by_code[(ac.code, ac.kind)] = by_code.get((ac.code, ac.kind), 0) + ac.amount.amount
    kept = []
    for ac in summary:
        if by_code.get((ac.code, ac.kind)) == ac.amount.amount:
            continue
        kept.append(ac)
    return kept


def invoice_from_810(text: str, transaction: Transaction, sender: str = "", source: str = "") -> Invoice:
    builder = _Builder(text, transaction, sender)
    where = builder.where
    for segment in transaction.body():
        sid = segment.elements[0]
        if sid == "IT1":
            builder.add_line(_it1(where, segment, len(builder.lines) + 1))
        elif sid in LINE_DETAIL and builder.line is not None and not builder.summary:
            _line_detail(where, builder.line, segment)
        elif sid == "SAC":
            _sac(builder, segment)
        elif sid == "TXI" and segment[2].strip():
            builder.tax(where.money(segment, 2, "the tax amount", builder.currency))
        elif sid == "TDS":
            builder.summary = True
            builder.line = None
            builder.stated_total = where.implied_money(segment, 1, "the invoice total", builder.currency)
        elif sid == "BIG":
            _big(builder, segment)
        elif sid == "CUR" and segment[2].strip():
            builder.currency = segment[2].strip()
        elif sid == "REF" and builder.line is None:
            _header_ref(builder, segment)
        elif sid in ("N1", "N2", "N3", "N4"):
            builder.party(segment)
        elif sid == "ITD":
            builder.terms.append(_terms(segment))
    return builder.finish(source or f"x12-810 ST {transaction.control}")


def _big(builder: _Builder, segment: Segment) -> None:
    where = builder.where
    builder.invoice_date = where.date(segment, 1, "the invoice date")
    builder.number = where.required(segment, 2, "the invoice number")
    builder.po_number = segment[4].strip()
    if segment[7].strip() in CREDIT_CODES:
        builder.kind = InvoiceKind.CREDIT_MEMO
        builder.original_invoice = builder.original_invoice or segment[5].strip()


def _header_ref(builder: _Builder, segment: Segment) -> None:
    qualifier, value = segment[1].strip(), segment[2].strip()
    if qualifier == "PO" and not builder.po_number:
        builder.po_number = value
    elif qualifier == "OI":
        builder.original_invoice = value


def _terms(segment: Segment) -> str:
    if segment[12].strip():
        return segment[12].strip()
    parts = []
    if segment[3].strip():
        parts.append(f"{segment[3].strip()}% discount")
    if segment[5].strip():
        parts.append(f"within {segment[5].strip()} days")
    if segment[7].strip():
        parts.append(f"net {segment[7].strip()} days")
    return ", ".join(parts)


def _it1(where: Where, segment: Segment, ordinal: int) -> _Line:
    elements = segment.elements
    count = len(elements)
    line = _Line(
        segment,
        (elements[1].strip() if count > 1 else "") or str(ordinal),
        item_ids(segment, 6, 24),
        where.decimal(segment, 2, "the quantity invoiced"),
        elements[3].strip() if count > 3 else "",
        where.decimal(segment, 4, "the unit price"),
    )
    line.price_basis = elements[5].strip() if count > 5 else ""
    return line


def _line_detail(where: Where, line: _Line, segment: Segment) -> None:
    sid = segment.elements[0]
    if sid == "PID":
        if not line.description:
            line.description = segment[5].strip()
    elif sid == "MEA" and segment[2].strip() in WEIGHT_MEASURES and segment[3].strip():
        line.weight = where.decimal(segment, 3, "the weight")
        if not line.price_basis and line.unit not in ("LB", "KG"):
            line.price_basis = "LB" if segment[4].startswith("LB") else line.price_basis
    elif sid == "REF" and segment[1].strip() in ("LI", "FJ"):
        line.po_line = segment[2].strip()


def _sac(builder: _Builder, segment: Segment) -> None:
    flag = segment[1].strip()
    kind = _SAC_KINDS.get(flag, AllowanceOrCharge.INFORMATION)
    if not segment[5].strip():
        return  # a percentage without an amount: nothing to add up
    amount = builder.where.implied_money(segment, 5, "the allowance or charge amount", builder.currency)
    if amount.amount < 0:
        amount = -amount
        if kind is AllowanceOrCharge.CHARGE:
            kind = AllowanceOrCharge.ALLOWANCE
    description = segment[15].strip()
    builder.adjustment(kind, segment[2].strip() or segment[3].strip(), amount, description)


def invoice_from_880(text: str, transaction: Transaction, sender: str = "", source: str = "") -> Invoice:
    builder = _Builder(text, transaction, sender)
    where = builder.where
    for segment in transaction.body():
        sid = segment.id
        if sid == "G17":
            builder.add_line(_g17(where, segment, len(builder.lines) + 1))
        elif sid == "G69" and builder.line is not None and not builder.line.description:
            builder.line.description = segment[1].strip()
        elif sid == "G72":
            _g72(builder, segment)
        elif sid == "G33":
            builder.summary = True
            builder.line = None
            builder.stated_total = where.implied_money(segment, 1, "the invoice total", builder.currency)
        elif sid == "G31":
            builder.summary = True
            builder.line = None
        elif sid == "G01":
            builder.invoice_date = where.date(segment, 1, "the invoice date")
            builder.number = where.required(segment, 2, "the invoice number")
            builder.po_number = segment[4].strip()
        elif sid in ("N1", "N2", "N3", "N4"):
            builder.party(segment)
    return builder.finish(source or f"x12-880 ST {transaction.control}")


def _g17(where: Where, segment: Segment, ordinal: int) -> _Line:
    ids = item_ids(segment, 5, 7)
    if segment[4].strip() and not ids.upc:
        ids = ItemIds(
            vendor_item=ids.vendor_item, upc=segment[4].strip(), buyer_item=ids.buyer_item, other=ids.other
        )
    return _Line(
        segment,
        str(ordinal),
        ids,
        where.decimal(segment, 1, "the quantity invoiced"),
        segment[2].strip(),
        where.decimal(segment, 3, "the unit cost", default="0"),
    )


def _g72(builder: _Builder, segment: Segment) -> None:
    if not segment[8].strip():
        return
    amount = builder.where.implied_money(segment, 8, "the allowance or charge amount", builder.currency)
    kind = AllowanceOrCharge.ALLOWANCE if amount.amount < 0 else AllowanceOrCharge.CHARGE
    builder.adjustment(kind, segment[1].strip(), Money(abs(amount.amount), builder.currency), "")
