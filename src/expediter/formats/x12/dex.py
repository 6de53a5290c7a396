"""UCS/DEX 894 delivery/return base records: direct-store-delivery invoices, read into the model.

Grocery direct-store-delivery suppliers (soda, snacks, frozen pizza) hand the store a DEX 894 at
the back door. It uses X12 syntax (``*`` elements, one segment per line) inside a ``DXS``/``DXE``
envelope instead of ISA/GS:

- ``DXS`` sender, ``DX``, version (``004010UCS``), transmission control number, receiver;
- ``ST*894`` … ``SE`` per delivery; ``G82`` the delivery (``D``) or return (``C``), the supplier's
  delivery number (the invoice number), and the delivery date (G8207);
- ``LS``/``LE`` around the items: ``G83`` line, quantity, unit, UPC (G8304) or product id
  (G8305/06), unit cost (G8308), description (G8310); ``G72`` after a line is its allowance or
  charge: a rate per unit (G7205, negative = allowance) times a quantity (G7206, else the line's);
- ``G84`` totals: quantity and the total amount (two implied decimals); ``G85`` an integrity check
  and ``G86`` the driver's signature, kept but not verified (the check value's algorithm is set per
  trading partner).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from expediter.formats.x12.errors import Position, Severity, X12Problem
from expediter.formats.x12.values import parse_date, sensible
from expediter.model.money import Money
from expediter.model.vendors import (
    AllowanceCharge,
    AllowanceOrCharge,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    ItemIds,
    money_of,
)

_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


class DexTransaction:
    def __init__(self, control: str, first: int, line: int) -> None:
        self.control = control
        self.segments: list[tuple[int, int, list[str]]] = []
        """(segment number, line, elements) from ST to SE."""
        self.first = first
        self.line = line


class DexFile:
    def __init__(self) -> None:
        self.sender = ""
        self.receiver = ""
        self.control = ""
        self.transactions: list[DexTransaction] = []
        self.problems: list[X12Problem] = []


def _problem(
    code: str, message: str, number: int, line: int, sid: str, fix: str, control: str = ""
) -> X12Problem:
    return X12Problem(
        code=code,
        message=message,
        position=Position(segment=number, segment_id=sid, line=line),
        fix=fix,
        severity=Severity.ERROR,
        transaction=control,
    )


def read_dex(text: str) -> DexFile:
    """The envelope and transactions of a DEX 894 file (one segment per line)."""
    found = DexFile()
    current: DexTransaction | None = None
    number = 0
    for line_number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip().rstrip("~")
        if not stripped:
            continue
        number += 1
        elements = stripped.split("*")
        sid = elements[0]
        if not _SEGMENT_ID.fullmatch(sid):
            found.problems.append(
                _problem(
                    "segment_id",
                    f"{sid[:20]!r} is not a segment id (2 or 3 capital letters or digits)",
                    number,
                    line_number,
                    "",
                    "each line of a DEX file is one segment starting with its id",
                    current.control if current else "",
                )
            )
            continue
        if sid == "DXS":
            found.sender = elements[1] if len(elements) > 1 else ""
            found.control = elements[4] if len(elements) > 4 else ""
            found.receiver = elements[5] if len(elements) > 5 else ""
        elif sid == "ST":
            current = DexTransaction(elements[2] if len(elements) > 2 else "", number, line_number)
            current.segments.append((number, line_number, elements))
            found.transactions.append(current)
        elif sid == "SE" and current is not None:
            current.segments.append((number, line_number, elements))
            _check_count(found, current, elements, number, line_number)
            current = None
        elif sid == "DXE":
            _check_dxe(found, elements, number, line_number)
        elif current is not None:
            current.segments.append((number, line_number, elements))
        else:
            found.problems.append(
                _problem(
                    "outside",
                    f"segment {sid[:20]!r} is outside a delivery (ST ... SE)",
                    number,
                    line_number,
                    sid[:3],
                    "every segment between DXS and DXE belongs to an ST ... SE delivery",
                )
            )
    if not found.transactions:
        found.problems.append(
            _problem(
                "empty", "the DEX file holds no delivery (ST*894)", number, 0, "", "send the whole file again"
            )
        )
    if current is not None:
        found.problems.append(
            _problem(
                "missing_se",
                f"delivery {current.control} (from line {current.line}) has no SE trailer",
                number,
                0,
                "",
                "send the whole file again; it may have been cut off",
                current.control,
            )
        )
    return found


def _check_count(found: DexFile, tx: DexTransaction, elements: list[str], number: int, line: int) -> None:
    stated = elements[1] if len(elements) > 1 else ""
    if stated != str(len(tx.segments)):
        found.problems.append(
            X12Problem(
                code="se_count",
                message=f"SE01 says {stated!r} segments, but the delivery has {len(tx.segments)}",
                position=Position(segment=number, segment_id="SE", line=line, element=1),
                fix="SE01 must count the segments from ST to SE",
                severity=Severity.WARNING,
                transaction=tx.control,
            )
        )


def _check_dxe(found: DexFile, elements: list[str], number: int, line: int) -> None:
    count = elements[2] if len(elements) > 2 else ""
    if count != str(len(found.transactions)):
        found.problems.append(
            X12Problem(
                code="dxe_count",
                message=f"DXE02 says {count!r} deliveries, but the file has {len(found.transactions)}",
                position=Position(segment=number, segment_id="DXE", line=line, element=2),
                fix="DXE02 must count the ST/SE deliveries",
                severity=Severity.WARNING,
            )
        )


def _get(elements: list[str], index: int) -> str:
    return elements[index].strip() if index < len(elements) else ""


class DexMappingError(Exception):
    def __init__(self, problem: X12Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _number(elements: list[str], index: int, what: str, where: tuple[int, int], control: str) -> Decimal:
    text = _get(elements, index)
    try:
        value = Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        value = Decimal("NaN")
    if not sensible(value):
        name = f"{elements[0]}{index:02d}"
        raise DexMappingError(
            X12Problem(
                code="element",
                message=f"{name} ({what}) {text!r} is not a number an invoice can hold",
                position=Position(segment=where[0], segment_id=elements[0], line=where[1], element=index),
                fix=f"write {what} as digits, e.g. 2.58",
                transaction=control,
            )
        )
    return value


class _Line:
    def __init__(self, elements: list[str], quantity: Decimal, price: Decimal) -> None:
        upc = _get(elements, 4)
        qualifier, product = _get(elements, 5), _get(elements, 6)
        other = {qualifier: product} if qualifier and product and qualifier not in ("UK", "UA", "UP") else {}
        gtin = product if qualifier in ("UK", "UA", "UP") else ""
        self.item = ItemIds(upc=upc or gtin, other=other)
        self.number = _get(elements, 1)
        self.quantity = quantity
        self.unit = _get(elements, 3)
        self.price = price
        self.description = _get(elements, 10) or (product if qualifier and not gtin else "")
        self.adjustments: list[AllowanceCharge] = []


def invoice_from_894(dex: DexFile, tx: DexTransaction) -> Invoice:
    number, day, kind = "", date.min, InvoiceKind.INVOICE
    lines: list[_Line] = []
    stated: Money | None = None
    for segment_number, line_number, elements in tx.segments:
        where = (segment_number, line_number)
        sid = elements[0]
        if sid == "G82":
            kind = InvoiceKind.CREDIT_MEMO if _get(elements, 1) == "C" else InvoiceKind.INVOICE
            number = _get(elements, 2)
            day = parse_date(_get(elements, 7)) or date.min
        elif sid == "G83":
            quantity = _number(elements, 2, "the quantity", where, tx.control)
            lines.append(_Line(elements, quantity, _number(elements, 8, "the unit cost", where, tx.control)))
        elif sid == "G72" and lines:
            lines[-1].adjustments.append(_allowance(elements, lines[-1], where, tx.control))
        elif sid == "G84":
            stated = Money(int(_number(elements, 2, "the total amount", where, tx.control)))
    if not number or day == date.min:
        first = tx.segments[0]
        raise DexMappingError(
            _problem(
                "element",
                "the delivery has no G82 with its delivery number and date",
                first[0],
                first[1],
                "ST",
                "send G82 (delivery number in G8202, date in G8207)",
                tx.control,
            )
        )
    return Invoice(
        invoice_number=number,
        invoice_date=day,
        vendor=dex.sender,
        kind=kind,
        lines=[_build(line) for line in lines],
        stated_total=stated,
        source=f"dex-894 ST {tx.control} in DXS {dex.control}",
    )


def _allowance(elements: list[str], line: _Line, where: tuple[int, int], control: str) -> AllowanceCharge:
    rate = _number(elements, 5, "the allowance rate", where, control)
    quantity = (
        _number(elements, 6, "the allowance quantity", where, control) if _get(elements, 6) else line.quantity
    )
    amount = money_of(rate * quantity)
    kind = AllowanceOrCharge.ALLOWANCE if amount.amount < 0 else AllowanceOrCharge.CHARGE
    description = next((e for e in reversed(elements[8:]) if e.strip()), "")
    return AllowanceCharge(
        kind=kind, code=_get(elements, 1), amount=Money(abs(amount.amount)), description=description
    )


def _build(line: _Line) -> InvoiceLine:
    return InvoiceLine(
        line_number=line.number,
        item=line.item,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.price,
        amount=money_of(line.quantity * line.price),
        allowances_charges=line.adjustments,
    )
