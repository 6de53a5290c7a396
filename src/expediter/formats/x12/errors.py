"""X12 problems: what is wrong, where (segment number, line, byte), and what the sender should fix.

Every problem names the segment's position in the file so that a manager can forward it to the
vendor as it is: "segment 14 (SE) on line 14: the trailer says 18 segments, the transaction has 19".
Envelope counts and control numbers that disagree are *warnings* by default (the data inside is
intact and a miscounted trailer is common in real files); a reader in strict mode makes them errors.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from expediter.errors import RejectedInput


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Position(msgspec.Struct, frozen=True, kw_only=True):
    segment: int
    """1-based number of the segment in the file (the ISA is segment 1)."""
    segment_id: str = ""
    line: int = 0
    """1-based line of the file where the segment starts."""
    byte: int = 0
    """0-based byte offset of the segment's first character in the file (after a UTF-8 BOM)."""
    element: int = 0
    """1-based element position (ISA13 is 13), 0 for the whole segment."""

    def describe(self) -> str:
        parts = [f"segment {self.segment}"]
        if self.segment_id:
            parts[0] += f" ({self.segment_id}{self.element:02d})" if self.element else f" ({self.segment_id})"
        if self.line:
            parts.append(f"line {self.line}")
        parts.append(f"byte {self.byte}")
        return ", ".join(parts)


class X12Problem(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    """A short stable name (``se_count``, ``missing_iea``...) for scripts and 997 reason codes."""
    message: str
    position: Position
    fix: str = ""
    severity: Severity = Severity.ERROR
    transaction: str = ""
    """The ST02 control number of the transaction it belongs to, when inside one."""

    def __str__(self) -> str:
        text = f"{self.severity}: {self.position.describe()}: {self.message}"
        return text + (f" — fix: {self.fix}" if self.fix else "")


class X12Error(RejectedInput):
    """A file that cannot be read as X12; ``problems`` lists every error found, positioned."""

    def __init__(self, problems: list[X12Problem]) -> None:
        first = problems[0]
        super().__init__(first.message, where=first.position.describe(), fix=first.fix)
        self.problems = problems

    def __str__(self) -> str:
        return "; ".join(str(problem) for problem in self.problems)
