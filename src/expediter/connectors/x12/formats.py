"""CSV invoices: one row per invoice line, the invoice's number and date repeated on each row.

The minimal layout (docs/connectors/x12.md) has ``invoice_number, invoice_date, vendor_item,
description, quantity, unit, unit_cost, extended``, optionally ``po_number`` and ``catch_weight``;
a vendor whose columns are named otherwise is mapped in ``[systems.settings.csv]``. Rows of several
invoices may share a file. Every bad value names its row and column.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from expediter.connectors.x12.config import CsvColumns
from expediter.model.vendors import Invoice, InvoiceLine, ItemIds, money_of
from expediter.plugin import RejectedInput

REQUIRED = ("invoice_number", "invoice_date", "vendor_item", "quantity", "unit_cost")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _decimal(value: str, row: int, column: str) -> Decimal:
    try:
        number = Decimal(value.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise RejectedInput(
            f"{value!r} is not a number", where=f"row {row}, column {column}", fix="write digits, e.g. 12.50"
        )
    return number


def _date(value: str, row: int, column: str, fmt: str) -> date:
    try:
        return datetime.strptime(value.strip(), fmt).date()
    except ValueError:
        raise RejectedInput(
            f"{value!r} is not a date", where=f"row {row}, column {column}", fix=f"write dates as {fmt}"
        ) from None


def read_csv_invoices(data: bytes, columns: CsvColumns, vendor: str, currency: str = "USD") -> list[Invoice]:
    reader = csv.DictReader(io.StringIO(_text(data)))
    header = reader.fieldnames or []
    missing = [getattr(columns, key) for key in REQUIRED if getattr(columns, key) not in header]
    if missing:
        raise RejectedInput(
            f"the CSV invoice has no column {', '.join(missing)}",
            where="row 1 (the header)",
            fix="name the columns as in docs/connectors/x12.md or map them in [systems.settings.csv]",
        )
    heads: dict[str, tuple[date, str]] = {}
    lines: dict[str, list[InvoiceLine]] = {}
    for row_number, row in enumerate(reader, start=2):
        number = (row.get(columns.invoice_number) or "").strip()
        if not number:
            raise RejectedInput(
                "the invoice number is empty", where=f"row {row_number}, column {columns.invoice_number}"
            )
        day = _date(row[columns.invoice_date] or "", row_number, columns.invoice_date, columns.date_format)
        heads.setdefault(number, (day, (row.get(columns.po_number) or "").strip()))
        lines.setdefault(number, []).append(_line(row, row_number, columns, len(lines[number]) + 1, currency))
    return [
        Invoice(
            invoice_number=number,
            invoice_date=day,
            vendor=vendor,
            po_number=po,
            lines=lines[number],
            currency=currency,
            source="csv",
        )
        for number, (day, po) in heads.items()
    ]


def _line(row: dict[str, str], number: int, columns: CsvColumns, ordinal: int, currency: str) -> InvoiceLine:
    quantity = _decimal(row[columns.quantity] or "", number, columns.quantity)
    price = _decimal(row[columns.unit_cost] or "", number, columns.unit_cost)
    weight_text = (row.get(columns.catch_weight) or "").strip()
    weight = _decimal(weight_text, number, columns.catch_weight) if weight_text else None
    extended_text = (row.get(columns.extended) or "").strip()
    billed = weight if weight is not None else quantity
    amount = (
        money_of(_decimal(extended_text, number, columns.extended), currency)
        if extended_text
        else money_of(billed * price, currency)
    )
    return InvoiceLine(
        line_number=str(ordinal),
        item=ItemIds(vendor_item=(row.get(columns.vendor_item) or "").strip()),
        description=(row.get(columns.description) or "").strip(),
        quantity=quantity,
        unit=(row.get(columns.unit) or "").strip().upper(),
        unit_price=price,
        amount=amount,
        catch_weight=weight,
        price_unit="LB" if weight is not None else "",
    )
