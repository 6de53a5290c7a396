"""The shapes an X12 file is read into: separators, segments, transactions, groups, interchanges.

A :class:`Segment` is a plain slotted object (a 200-line invoice has ~800 of them); the rest are
msgspec Structs. :func:`decode` turns a file's bytes into text without losing any of them.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from expediter.formats.x12.errors import Position, Severity, X12Error, X12Problem

BOM = "\ufeff"


class Delimiters(msgspec.Struct, frozen=True):
    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str = ""


class Segment:
    """One segment: ``seg[0]`` is its id, ``seg[1]`` its first element (``BIG01``)."""

    __slots__ = ("elements", "number", "offset")

    def __init__(self, elements: list[str], number: int, offset: int) -> None:
        self.elements = elements
        self.number = number
        self.offset = offset

    @property
    def id(self) -> str:
        return self.elements[0]

    def __getitem__(self, index: int) -> str:
        try:
            return self.elements[index]
        except IndexError:
            return ""

    def __len__(self) -> int:
        return len(self.elements)

    def __repr__(self) -> str:
        return f"Segment({self.elements!r}, number={self.number})"


class Transaction(msgspec.Struct, kw_only=True):
    code: str
    """ST01: ``810``, ``850``, ``855``, ``880``, ``997`` ..."""
    control: str
    version: str
    segments: list[Segment]
    """From ST to SE inclusive (SE may be missing when the file was cut)."""
    group_control: str = ""
    functional_id: str = ""
    problems: list[X12Problem] = []

    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        end = len(self.segments) - (1 if self.segments and self.segments[-1].id == "SE" else 0)
        return self.segments[1:end]

    def accepted(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)


class Group(msgspec.Struct, kw_only=True):
    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control: str
    version: str
    transactions: list[Transaction] = []
    problems: list[X12Problem] = []


class Interchange(msgspec.Struct, kw_only=True):
    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    date: str
    time: str
    control: str
    version: str
    usage: str
    """ISA15: ``P`` production, ``T`` test."""
    ack_requested: str
    delimiters: Delimiters
    groups: list[Group] = []
    services: list[list[str]] = []
    """ISB, ISE and TA1 segments as read."""


class X12File(msgspec.Struct, kw_only=True):
    interchanges: list[Interchange]
    problems: list[X12Problem]

    @property
    def errors(self) -> list[X12Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[X12Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def transactions(self) -> Iterator[tuple[Interchange, Group, Transaction]]:
        for interchange in self.interchanges:
            for group in interchange.groups:
                for transaction in group.transactions:
                    yield interchange, group, transaction

    def raise_for_errors(self) -> None:
        if self.errors:
            raise X12Error(self.errors)


class Locator:
    """Turns a character offset into a line and byte position, only when a problem needs one."""

    def __init__(self, text: str) -> None:
        self.text = text

    def at(self, offset: int, number: int, segment_id: str = "", element: int = 0) -> Position:
        line = self.text.count("\n", 0, offset) + 1
        byte = len(self.text[:offset].encode("utf-8", "surrogatepass"))
        return Position(segment=number, segment_id=segment_id, line=line, byte=byte, element=element)


def decode(data: bytes | str) -> str:
    """Text of a file: UTF-8 (a BOM dropped); bytes that are not UTF-8 read as Latin-1, never lost."""
    if isinstance(data, str):
        return data.removeprefix(BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.removeprefix(BOM)
