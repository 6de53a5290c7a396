"""Versioned CSV layouts, and a writer and reader that are safe to open in a spreadsheet.

A :class:`Layout` is a name, a version and typed columns; its page in ``docs/layouts/`` gives units
and examples. A layout never changes once published: a change is a new version, and readers pick the
version from the header row.

Cells are written by type:

- ``money``: decimal with exactly two places from integer minor units (``-3.50``), unquoted, so a
  spreadsheet reads a number and negative amounts stay numeric;
- ``decimal`` / ``integer``: plain numbers; ``date``: ISO ``YYYY-MM-DD``;
- ``text``: a cell a spreadsheet would execute as a formula (first character ``=``, ``+``, ``-``,
  ``@``, tab, carriage return or NUL) gets a leading ``'`` (OWASP ASVS 1.2.10, CWE-1236). A text that
  already starts with ``'`` gets one too, so the reader can always strip exactly one and re-read the
  original text.

Files are UTF-8 (optionally with a BOM for Excel), RFC 4180 quoting, CRLF line endings by default
(``LF`` on request).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, BinaryIO

import msgspec

from expediter.errors import RejectedInput
from expediter.model.money import Money


class ColumnType(StrEnum):
    TEXT = "text"
    MONEY = "money"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATE = "date"


class LineEnding(StrEnum):
    CRLF = "crlf"
    LF = "lf"


class Column(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: ColumnType
    unit: str = ""
    description: str = ""
    required: bool = True


class Layout(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    version: int
    columns: tuple[Column, ...]

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    def file_name(self, location_id: str, business_date: date) -> str:
        """``<layout>_v<version>_<location>_<YYYYMMDD>.csv``: stable, so a re-run replaces the file."""
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in location_id)
        return f"{self.name}_v{self.version}_{safe}_{business_date:%Y%m%d}.csv"


class ExportFile(msgspec.Struct, frozen=True, kw_only=True):
    """One written file, ready for a transport; ``sha256`` is its stable id for de-duplication."""

    name: str
    content: bytes
    layout: str
    version: int
    records: int
    sha256: str


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")
_ESCAPE = "'"


def neutralise(text: str) -> str:
    """Make a text cell inert in a spreadsheet (and reversible by :func:`restore`)."""
    if text.startswith((*FORMULA_TRIGGERS, _ESCAPE)):
        return _ESCAPE + text
    return text


def restore(text: str) -> str:
    """The original text of a neutralised cell."""
    return text[1:] if text.startswith(_ESCAPE) else text


def money_text(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def _minor(value: Money | int) -> int:
    return value.amount if isinstance(value, Money) else value


def format_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.type is ColumnType.MONEY:
        return money_text(_minor(value))
    if column.type is ColumnType.DECIMAL:
        return format(Decimal(value), "f")
    if column.type is ColumnType.INTEGER:
        return str(int(value))
    if column.type is ColumnType.DATE:
        return value.isoformat()
    return neutralise(str(value))


class CsvWriter:
    """Streams rows of one layout to a binary file (a 1,000-location night is never all in memory)."""

    def __init__(
        self, out: BinaryIO, layout: Layout, *, line_ending: LineEnding = LineEnding.CRLF, bom: bool = False
    ) -> None:
        self.layout = layout
        self.records = 0
        self._out = out
        self._text = io.StringIO()
        terminator = "\r\n" if line_ending is LineEnding.CRLF else "\n"
        self._csv = csv.writer(self._text, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL)
        if bom:
            out.write("\ufeff".encode())
        self._emit(layout.header)

    def _emit(self, cells: list[str]) -> None:
        self._csv.writerow(cells)
        self._out.write(self._text.getvalue().encode("utf-8"))
        self._text.seek(0)
        self._text.truncate()

    def write(self, row: Sequence[Any]) -> None:
        """One row, values in column order (``Money`` or int minor units for money columns)."""
        if len(row) != len(self.layout.columns):
            raise ValueError(
                f"{self.layout.name} v{self.layout.version} has {len(self.layout.columns)} columns"
            )
        self._emit([format_cell(c, v) for c, v in zip(self.layout.columns, row, strict=True)])
        self.records += 1


def write_csv(
    layout: Layout,
    rows: Iterable[Sequence[Any]],
    *,
    name: str,
    line_ending: LineEnding = LineEnding.CRLF,
    bom: bool = False,
) -> ExportFile:
    buffer = io.BytesIO()
    writer = CsvWriter(buffer, layout, line_ending=line_ending, bom=bom)
    for row in rows:
        writer.write(row)
    content = buffer.getvalue()
    return ExportFile(
        name=name,
        content=content,
        layout=layout.name,
        version=layout.version,
        records=writer.records,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _bad(layout: Layout, row: int, column: Column, text: str, expected: str) -> RejectedInput:
    return RejectedInput(
        f"{column.name} {text!r} is not {expected}",
        where=f"{layout.name} v{layout.version} row {row} column {column.name}",
        fix=f"write {column.name} as {expected}",
    )


def parse_cell(layout: Layout, row: int, column: Column, text: str) -> Any:
    if text == "" and column.type is not ColumnType.TEXT:
        return None
    try:
        if column.type is ColumnType.MONEY:
            minor = Decimal(text) * 100
            if minor != minor.to_integral_value() or "." not in text:
                raise _bad(layout, row, column, text, "a decimal amount with two places, e.g. 12.50")
            return int(minor)
        if column.type is ColumnType.DECIMAL:
            return Decimal(text)
        if column.type is ColumnType.INTEGER:
            return int(text)
        if column.type is ColumnType.DATE:
            return date.fromisoformat(text)
    except (InvalidOperation, ValueError) as exc:
        raise _bad(layout, row, column, text, f"a {column.type} value") from exc
    return restore(text)


def read_csv(layout: Layout, data: bytes) -> list[dict[str, Any]]:
    """Re-read a file of ``layout``: typed values (money as int minor units), texts restored."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header != layout.header:
        raise RejectedInput(
            f"the header is not {layout.name} v{layout.version}",
            where="row 1",
            fix=f"expected columns: {', '.join(layout.header)}",
        )
    rows: list[dict[str, Any]] = []
    for number, cells in enumerate(reader, start=2):
        if len(cells) != len(layout.columns):
            raise RejectedInput(
                f"{len(cells)} cells where {layout.name} v{layout.version} has {len(layout.columns)}",
                where=f"row {number}",
            )
        rows.append(
            {c.name: parse_cell(layout, number, c, t) for c, t in zip(layout.columns, cells, strict=True)}
        )
    return rows


def column(
    name: str, type_: ColumnType, unit: str = "", description: str = "", required: bool = True
) -> Column:
    """A layout column, briefly (every layout is a table of these)."""
    return Column(name=name, type=type_, unit=unit, description=description, required=required)


T, M, D, N, DT = ColumnType.TEXT, ColumnType.MONEY, ColumnType.DECIMAL, ColumnType.INTEGER, ColumnType.DATE

SALES_SUMMARY_V1 = Layout(
    name="sales_summary",
    version=1,
    columns=(
        column("location_id", T, description="the hub's location id"),
        column("business_date", DT, description="the location's trading day"),
        column("currency", T, "ISO 4217"),
        column("section", T, description="what the row measures, e.g. net_sales_by_category"),
        column(
            "key",
            T,
            description="the breakdown key (category, reason, tender, brand); empty for totals",
            required=False,
        ),
        column("count", N, "checks/guests/items", required=False),
        column("amount", M, "currency, 2 decimals", required=False),
    ),
)

PRODUCT_MIX_V1 = Layout(
    name="product_mix",
    version=1,
    columns=(
        column("location_id", T),
        column("business_date", DT),
        column("currency", T, "ISO 4217"),
        column("item_id", T, description="menu item id, else PLU, else name"),
        column("item_name", T),
        column("plu", T, required=False),
        column("category", T),
        column("quantity", D, "units sold"),
        column("gross", M, "currency"),
        column("discounts", M, "currency", "line discounts plus its share of check discounts"),
        column("comps", M, "currency"),
        column("net", M, "currency", "gross - discounts - comps"),
        column("voided_quantity", D, "units"),
        column("voided_amount", M, "currency"),
    ),
)

LABOR_V1 = Layout(
    name="labor",
    version=1,
    columns=(
        column("location_id", T),
        column("business_date", DT, description="the date the shift started in"),
        column("employee_id", T),
        column("payroll_id", T, required=False),
        column("employee_name", T, required=False),
        column("job_code", T),
        column("hourly_rate", M, "currency per hour"),
        column("regular_hours", D, "hours, 2 decimals"),
        column("overtime_hours", D, "hours, 2 decimals", "paid at 1.5×"),
        column("double_time_hours", D, "hours, 2 decimals", "paid at 2×"),
        column("regular_wages", M, "currency"),
        column("overtime_wages", M, "currency"),
        column("double_time_wages", M, "currency"),
        column("total_wages", M, "currency"),
        column("declared_cash_tips", M, "currency"),
    ),
)

LAYOUTS: dict[tuple[str, int], Layout] = {
    (layout.name, layout.version): layout for layout in (SALES_SUMMARY_V1, PRODUCT_MIX_V1, LABOR_V1)
}


def layout(name: str, version: int = 1) -> Layout:
    try:
        return LAYOUTS[(name, version)]
    except KeyError:
        known = ", ".join(f"{n} v{v}" for n, v in sorted(LAYOUTS))
        raise ValueError(f"no CSV layout {name} v{version}; known: {known}") from None
