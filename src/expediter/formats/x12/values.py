"""Element values: numbers, implied decimals, dates and ids, each bad value a positioned error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from expediter.formats.x12.errors import Position, X12Error, X12Problem
from expediter.formats.x12.reader import Segment, Transaction
from expediter.model.money import Money
from expediter.model.vendors import ItemIds, money_of

_NUMBERS: dict[str, Decimal] = {}
"""Element text → its Decimal, for numbers already seen (Decimal is immutable)."""


class Where:
    """Positions inside one transaction, for mapping errors (line and byte come from the file)."""

    def __init__(self, text: str, transaction: Transaction) -> None:
        self.text = text
        self.transaction = transaction

    def position(self, segment: Segment, element: int = 0) -> Position:
        offset = segment.offset
        line = self.text.count("\n", 0, offset) + 1 if self.text else 0
        byte = len(self.text[:offset].encode("utf-8", "surrogatepass")) if self.text else offset
        return Position(segment=segment.number, segment_id=segment.id, line=line, byte=byte, element=element)

    def error(self, segment: Segment, element: int, message: str, fix: str) -> X12Error:
        return X12Error(
            [
                X12Problem(
                    code="element",
                    message=message,
                    position=self.position(segment, element),
                    fix=fix,
                    transaction=self.transaction.control,
                )
            ]
        )

    def required(self, segment: Segment, element: int, what: str) -> str:
        value = segment[element].strip()
        if not value:
            name = f"{segment.id}{element:02d}"
            raise self.error(segment, element, f"{name} ({what}) is empty", f"send {what} in {name}")
        return value

    def decimal(self, segment: Segment, element: int, what: str, *, default: str | None = None) -> Decimal:
        elements = segment.elements
        text = elements[element] if element < len(elements) else ""
        try:
            value = _NUMBERS[text]  # most quantities and prices repeat: 1, 2, 12.34 ...
        except KeyError:
            text = text.strip()
            if not text and default is not None:
                return Decimal(default)
            try:
                value = Decimal(text)
            except InvalidOperation:
                value = Decimal("NaN")
            value = self._finite(segment, element, what, value, text)
            if len(_NUMBERS) < 50_000:
                _NUMBERS[segment[element]] = value
        return value

    def _finite(self, segment: Segment, element: int, what: str, value: Decimal, text: str) -> Decimal:
        if not sensible(value):
            name = f"{segment.id}{element:02d}"
            raise self.error(
                segment,
                element,
                f"{name} ({what}) {text!r} is not a number an invoice can hold",
                f"write {what} as digits, e.g. 12.50",
            )
        return value

    def implied_money(self, segment: Segment, element: int, what: str, currency: str) -> Money:
        """An ``N2`` amount: digits with two implied decimals (TDS*36596 is 365.96)."""
        text = segment[element].strip()
        if "." in text:  # a sender that writes the point anyway means what it wrote
            return money_of(self.decimal(segment, element, what), currency)
        value = self.decimal(segment, element, what)
        return Money(int(value), currency)

    def money(self, segment: Segment, element: int, what: str, currency: str) -> Money:
        """An ``R`` amount: a decimal number in the major unit (SAC05 is N2, see ``implied_money``)."""
        return money_of(self.decimal(segment, element, what), currency)

    def date(self, segment: Segment, element: int, what: str, *, optional: bool = False) -> date | None:
        text = segment[element].strip()
        if not text and optional:
            return None
        parsed = parse_date(text)
        if parsed is None:
            name = f"{segment.id}{element:02d}"
            raise self.error(
                segment,
                element,
                f"{name} ({what}) {text!r} is not a date",
                "write dates as CCYYMMDD, e.g. 20260302",
            )
        return parsed


LARGEST = 12
"""No quantity, price or amount on a restaurant's invoice reaches 10^12: larger is a bad value."""


def sensible(value: Decimal) -> bool:
    return value.is_finite() and (value.is_zero() or value.adjusted() < LARGEST)


def parse_date(text: str) -> date | None:
    """``CCYYMMDD`` or the older ``YYMMDD`` (years 00-49 are 20xx, as X12 4010 guides say)."""
    if not text.isdigit() or len(text) not in (6, 8):
        return None
    if len(text) == 6:
        year = int(text[:2])
        text = f"{2000 + year if year < 50 else 1900 + year}{text[2:]}"
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


VENDOR_QUALIFIERS = frozenset({"VN", "VP", "SK", "VC", "VA", "SV"})
UPC_QUALIFIERS = frozenset({"UP", "UA", "UK", "EN", "UI", "UD", "UN", "U2"})
BUYER_QUALIFIERS = frozenset({"BP", "IN", "PI", "CB"})


def item_ids(segment: Segment, first: int, last: int) -> ItemIds:
    """Product id pairs (qualifier, id) from element ``first`` to ``last`` (PO106..PO125, IT106...)."""
    elements = segment.elements
    vendor = upc = buyer = ""
    other: dict[str, str] = {}
    stop = len(elements) if len(elements) < last + 2 else last + 2
    for index in range(first, stop - 1, 2):
        qualifier, value = elements[index].strip(), elements[index + 1].strip()
        if not qualifier or not value:
            continue
        if qualifier in VENDOR_QUALIFIERS and not vendor:
            vendor = value
        elif qualifier in UPC_QUALIFIERS and not upc:
            upc = value
        elif qualifier in BUYER_QUALIFIERS and not buyer:
            buyer = value
        else:
            other[qualifier] = value
    return ItemIds(vendor_item=vendor, upc=upc, buyer_item=buyer, other=other)
