"""On-hand counts imported from a manual CSV (``ingredient, unit, quantity``).

A count sheet is typed by a tired manager at midnight, so every problem names the row and column
and says how to fix it; nothing of a bad sheet is used (a half-read count gives a false variance).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation

import msgspec

from expediter.errors import RejectedInput
from expediter.operations.inventory.recipes import RecipeBook
from expediter.operations.inventory.units import Unit, convert, parse_unit

COLUMNS = ("ingredient", "unit", "quantity")


class CountLine(msgspec.Struct, frozen=True, kw_only=True):
    ingredient: str
    quantity: Decimal
    unit: Unit
    row: int


def _header(reader: csv.DictReader[str]) -> None:
    found = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise RejectedInput(
            f"count sheet has no {', '.join(missing)} column",
            where="row 1 (header)",
            fix="the first row must be: ingredient,unit,quantity",
        )
    reader.fieldnames = found


_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")


def _quantity(text: str, row: int) -> Decimal:
    """A count of zero or more. A comma is read only as a thousands separator ("1,250"); "2,5" is
    refused rather than read as 25, since a decimal comma is the likelier meaning."""
    cell = text.strip()
    if "," in cell and not _THOUSANDS.fullmatch(cell):
        raise RejectedInput(
            f"quantity {text!r} has a comma that is not a thousands separator",
            where=f"row {row}, column quantity",
            fix="write decimals with a point, e.g. 2.5 (a comma may only group thousands: 1,250)",
        )
    try:
        value = Decimal(cell.replace(",", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise RejectedInput(
            f"quantity {text!r} is not a number of zero or more",
            where=f"row {row}, column quantity",
            fix="write a plain number such as 12 or 3.5",
        )
    return value


def read_counts(text: str, book: RecipeBook | None = None) -> list[CountLine]:
    """Parse a count sheet; with ``book``, also refuse unknown ingredients and unconvertible units."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    _header(reader)
    lines = []
    for row, record in enumerate(reader, start=2):
        name = (record.get("ingredient") or "").strip()
        if not name:
            raise RejectedInput("ingredient is empty", where=f"row {row}, column ingredient", fix="name it")
        unit = parse_unit(record.get("unit") or "", f"row {row}, column unit")
        line = CountLine(
            ingredient=name, quantity=_quantity(record.get("quantity") or "", row), unit=unit, row=row
        )
        if book is not None:
            in_book_units(line, book)
        lines.append(line)
    return lines


def in_book_units(line: CountLine, book: RecipeBook) -> Decimal:
    """The counted quantity in the ingredient's own unit."""
    ingredient = book.ingredients.get(line.ingredient)
    if ingredient is None:
        raise RejectedInput(
            f"unknown ingredient {line.ingredient!r}",
            where=f"row {line.row}, column ingredient",
            fix="use an ingredient id from the recipe file",
        )
    where = f"row {line.row}, column unit"
    return convert(line.quantity, line.unit, ingredient.unit, ingredient.case_size, where)


def on_hand(lines: list[CountLine], book: RecipeBook) -> dict[str, Decimal]:
    """Counts summed per ingredient (a walk-in and a line fridge may both list it)."""
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.ingredient] = totals.get(line.ingredient, Decimal(0)) + in_book_units(line, book)
    return totals


def parse_count_sheet(data: bytes, book: RecipeBook | None = None) -> list[CountLine]:
    """Every line of a count sheet file, or ``RejectedInput`` naming the first bad row and column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RejectedInput(
            f"the file is not UTF-8 text (byte {exc.start})", where="the file", fix="save it as CSV UTF-8"
        ) from exc
    lines = read_counts(text, book)
    if not lines:
        raise RejectedInput(
            "the count sheet has no rows", where="row 2", fix="one row per ingredient counted"
        )
    return lines
