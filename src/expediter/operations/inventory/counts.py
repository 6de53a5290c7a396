"""On-hand counts imported from a manual CSV (``ingredient, unit, quantity``).

A count sheet is typed by a tired manager at midnight, so every problem names the row and column
and says how to fix it; nothing of a bad sheet is used (a half-read count gives a false variance).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
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


MAX_CELL = 4096
"""Characters a count sheet's cell may hold: an ingredient id, a unit, a number (and notes beside)."""


def _letter(index: int) -> str:
    """The spreadsheet's name for column ``index`` (0 → A, 26 → AA)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _header(cells: list[str]) -> dict[str, int]:
    """Where each column is; a missing or doubled column is refused (which one would count?)."""
    found = [name.strip().lower() for name in cells]
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise RejectedInput(
            f"count sheet has no {', '.join(missing)} column",
            where="row 1 (header)",
            fix="the first row must be: ingredient,unit,quantity",
        )
    for name in COLUMNS:
        places = [_letter(i) for i, found_name in enumerate(found) if found_name == name]
        if len(places) > 1:
            raise RejectedInput(
                f"column {name} appears more than once; which one counts is not clear",
                where=f"row 1 (header), columns {' and '.join(places)}",
                fix=f"keep one {name} column and delete or rename the others",
            )
    return {name: found.index(name) for name in COLUMNS}


class _CellTooLong(Exception):
    def __init__(self, row: int, index: int) -> None:
        self.row, self.index = row, index


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """The sheet's rows with their spreadsheet row numbers (blank lines skipped). A row the CSV
    reader cannot read is refused with its row; a cell too long raises :class:`_CellTooLong`."""
    reader = csv.reader(io.StringIO(text))
    while True:
        first_line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a cell over the csv module's limit (128 KiB)
            index = _oversized_cell(text, first_line)
            if index is not None:
                raise _CellTooLong(first_line, index) from None
            raise RejectedInput(
                f"row {first_line} cannot be read as CSV ({exc})",
                where=f"row {first_line}",
                fix="save the sheet again as CSV UTF-8 from the spreadsheet",
            ) from None
        too_long = next((i for i, cell in enumerate(cells) if len(cell) > MAX_CELL), None)
        if too_long is not None:
            raise _CellTooLong(reader.line_num, too_long)
        if cells:
            yield reader.line_num, cells


def _oversized_cell(text: str, row: int) -> int | None:
    """The index of the first cell longer than :data:`MAX_CELL` in the row starting at line
    ``row``, read quote-aware (only on the error path, after the CSV reader gave up)."""
    offset = 0
    for _ in range(row - 1):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return None
    column, length, quoted = 0, 0, False
    for char in itertools.islice(text, offset, None):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == ",":
            column, length = column + 1, 0
        elif not quoted and char in "\r\n":
            return None
        else:
            length += 1
            if length > MAX_CELL:
                return column
    return None


def _too_long(row: int, column: str) -> RejectedInput:
    return RejectedInput(
        f"the cell is longer than {MAX_CELL:,} characters",
        where=f"row {row}, column {column}",
        fix="a count sheet holds an ingredient, a unit and a number per row: check that the file "
        'is the count sheet and that no quote (") is left open',
    )


def _column_name(index: int, columns: dict[str, int]) -> str:
    return next((name for name, i in columns.items() if i == index), _letter(index))


def _record(row: int, cells: list[str], columns: dict[str, int], width: int) -> dict[str, str]:
    """The row's cells by column name; a row with more cells than the header has columns is
    refused (an unquoted "1,250" would otherwise count 1)."""
    if len(cells) > width:
        raise RejectedInput(
            f"row {row} has {len(cells)} cells but the header names {width} columns",
            where=f"row {row}, column {_letter(width)}",
            fix='write numbers without a thousands comma, or quote them ("1,250"), and keep '
            "notes in a column of their own with a header",
        )
    return {name: cells[index] if index < len(cells) else "" for name, index in columns.items()}


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
    columns: dict[str, int] = {}
    try:
        records = _records(text.lstrip("\ufeff"))
        header = next(records, (1, []))[1]
        columns = _header(header)
        return [_line(row, _record(row, cells, columns, len(header)), book) for row, cells in records]
    except _CellTooLong as exc:
        raise _too_long(exc.row, _column_name(exc.index, columns)) from None


def _line(row: int, record: dict[str, str], book: RecipeBook | None) -> CountLine:
    name = record["ingredient"].strip()
    if not name:
        raise RejectedInput("ingredient is empty", where=f"row {row}, column ingredient", fix="name it")
    unit = parse_unit(record["unit"], f"row {row}, column unit")
    line = CountLine(ingredient=name, quantity=_quantity(record["quantity"], row), unit=unit, row=row)
    if book is not None:
        in_book_units(line, book)
    return line


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
