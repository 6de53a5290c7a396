"""What every import kind declares, and the context it reads a file in.

A kind (a count sheet, the roster, the menu, recipes, a vendor's price list, invoices) says which
columns it reads, how one row becomes one record, which rows belong together (an employee's jobs,
an invoice's lines: they are kept or quarantined as one) and where committed records go:

- :attr:`Target.INBOX`: canonical messages in the hub's inbox, where the rest of the hub reads them
  (count sheets, employees, menu items, recipes);
- :attr:`Target.KEEP`: the committed rows stay with the import, read by kind (a price list);
- :attr:`Target.VENDOR_DESK`: vendor invoices, matched to their purchase order and booked.

A kind never stores anything itself: the engine stages, commits and records
(:mod:`expediter.engine.imports`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import msgspec

from expediter.catalog.schema import Catalog, Flow
from expediter.model.location import Location
from expediter.operations.imports.rows import Cells, Column
from expediter.operations.inventory.recipes import RecipeBook


class Target(StrEnum):
    INBOX = "inbox"
    KEEP = "keep"
    VENDOR_DESK = "vendor_desk"


class KeyRule(StrEnum):
    """What a record's key means across the file."""

    NONE = "none"
    UNIQUE = "unique"
    """One row per key: a later row with the same key is a bad row."""
    GROUP = "group"
    """Rows with one key are one record (an employee's jobs): any bad row quarantines them all."""


@dataclass(frozen=True)
class ImportContext:
    """Where and for what a file is imported."""

    catalog: Catalog
    flow: Flow
    location: Location
    business_date: date
    book: RecipeBook | None = None
    """The recipe book of the flow's systems, when one is named: ingredients are checked in it."""
    decimal_comma: bool = False
    date_format: str = ""

    @property
    def currency(self) -> str:
        return self.location.currency

    @property
    def vendor(self) -> str:
        """The system the file comes from (a price list's or an invoice's vendor)."""
        return self.flow.from_


@dataclass(frozen=True)
class Parsed:
    key: str
    record: msgspec.Struct


@dataclass(frozen=True)
class Stored:
    """One canonical message a commit puts in the inbox."""

    kind: str
    ref: str
    payload: bytes
    location_id: str | None
    business_date: date | None = None
    content_type: str = "application/json"


class ImportKind(Protocol):
    """One kind of file; an instance reads one file (it may remember earlier rows)."""

    data: ClassVar[str]
    """The flow ``data`` it imports."""
    title: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    key_rule: ClassVar[KeyRule]
    target: ClassVar[Target]
    record_type: ClassVar[type[msgspec.Struct]]

    def __init__(self, context: ImportContext) -> None: ...

    def parse(self, cells: Cells) -> Parsed | None:
        """The row's record, or ``None`` when ``cells.problems`` says what is wrong."""
        ...

    def stored(self, groups: Iterable[tuple[str, Sequence[Any]]], earlier: str | None) -> list[Stored]:
        """The inbox messages of the committed records, by key (``earlier``: the text of the sheet
        this import continues, see :attr:`continues`)."""
        ...


def json_payload(record: Any) -> bytes:
    return msgspec.json.encode(record)
