"""One row of an imported file, read into values: each bad cell is a problem of its row.

A manual file is typed by people, so a row is read whole and **every** problem in it is named by
column with how to fix it (a preview lists them all at once; the file is not refused at its first
bad cell). Numbers follow the file's own conventions: in a semicolon-delimited file (Excel where
the decimal mark is a comma) ``2,5`` is two and a half and ``1.250,50`` has a thousands point;
elsewhere a comma may only group thousands (``1,250``) and ``2,5`` is refused, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import msgspec

from expediter.errors import RejectedInput
from expediter.model.money import Money
from expediter.model.vendors import money_of

_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")
_THOUSANDS_POINT = re.compile(r"-?\d{1,3}(\.\d{3})+(,\d*)?")
_CURRENCY = re.compile(r"^[$€£]|[$€£]$")
_TRUE = frozenset({"yes", "y", "true", "1", "x"})
_FALSE = frozenset({"no", "n", "false", "0", ""})


class Column(msgspec.Struct, frozen=True, kw_only=True):
    """A column an import reads (matched by :func:`expediter.formats.tabular.column_key`)."""

    name: str
    required: bool = True
    """Whether the header must have it (a cell may still be optional: see each kind)."""
    description: str = ""


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """What is wrong with one cell (or, with ``column`` empty, with the whole row)."""

    column: str
    message: str
    fix: str = ""

    def text(self) -> str:
        where = f"column {self.column}: " if self.column else ""
        return f"{where}{self.message}" + (f" (fix: {self.fix})" if self.fix else "")


class Cells:
    """The cells of row ``number`` by column name; every reader notes what it could not read."""

    def __init__(
        self, number: int, values: Mapping[str, str], *, decimal_comma: bool = False, date_format: str = ""
    ) -> None:
        self.number = number
        self.values = values
        self.decimal_comma = decimal_comma
        self.date_format = date_format
        self.problems: list[Problem] = []

    def problem(self, column: str, message: str, fix: str = "") -> None:
        self.problems.append(Problem(column=column, message=message, fix=fix))

    def rejected(self, column: str, exc: RejectedInput) -> None:
        self.problem(column, exc.message, exc.fix)

    def raw(self, column: str) -> str:
        """The cell as read (the table reader strips the spaces around cells already)."""
        return self.values.get(column, "")

    def text(self, column: str, *, required: bool = True, longest: int = 200) -> str:
        value = self.raw(column)
        if required and not value:
            self.problem(column, "is empty", f"write the {column.replace('_', ' ')}")
        elif len(value) > longest:
            self.problem(column, f"is longer than {longest} characters", "shorten it")
            return ""
        return value

    def decimal(
        self, column: str, *, required: bool = True, minimum: Decimal | None = Decimal(0)
    ) -> Decimal | None:
        value = self.raw(column)
        if not value:
            if required:
                self.problem(column, "is empty", "write a number, e.g. 12 or 3.5")
            return None
        number = self._number(value)
        if number is None or not number.is_finite():
            example = "3,5" if self.decimal_comma else "3.5"
            self.problem(
                column, f"{value!r} is not a number", f"write a plain number such as 12 or {example}"
            )
            return None
        if minimum is not None and number < minimum:
            self.problem(column, f"{value!r} is below {minimum}", f"write {minimum} or more")
            return None
        return number

    def _number(self, text: str) -> Decimal | None:
        cell = _CURRENCY.sub("", text.replace(" ", "").replace("\u00a0", ""))
        if self.decimal_comma:
            if "." in cell and not _THOUSANDS_POINT.fullmatch(cell):
                return None
            cell = cell.replace(".", "").replace(",", ".")
        elif "," in cell:
            if not _THOUSANDS.fullmatch(cell):
                return None
            cell = cell.replace(",", "")
        try:
            return Decimal(cell)
        except InvalidOperation:
            return None

    def integer(self, column: str, *, required: bool = False) -> int | None:
        number = self.decimal(column, required=required, minimum=None)
        if number is None:
            return None
        if number != number.to_integral_value():
            self.problem(column, f"{self.raw(column)!r} is not a whole number", "write a whole number")
            return None
        return int(number)

    def money(self, column: str, currency: str, *, required: bool = True) -> Money | None:
        """An amount in the major unit (12.50) as minor units; more than two decimals is refused."""
        number = self.decimal(column, required=required)
        if number is None:
            return None
        if number != number.quantize(Decimal("0.01")):
            self.problem(column, f"{self.raw(column)!r} has more than two decimals", "round it to the cent")
            return None
        return money_of(number, currency)

    def day(self, column: str, *, required: bool = True) -> date | None:
        value = self.raw(column)
        if not value:
            if required:
                self.problem(column, "is empty", "write the date as YYYY-MM-DD")
            return None
        try:
            if self.date_format:
                return datetime.strptime(value, self.date_format).date()
            return date.fromisoformat(value)
        except ValueError:
            shown = self.date_format or "YYYY-MM-DD"
            self.problem(column, f"{value!r} is not a date", f"write it as {shown}")
            return None

    def flag(self, column: str, *, default: bool = False) -> bool:
        value = self.raw(column).lower()
        if not value:
            return default
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.problem(column, f"{self.raw(column)!r} is not yes or no", "write yes or no")
        return False
