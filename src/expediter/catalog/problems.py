"""What is wrong with a catalog, said so that a systems manager can fix it without a developer.

Every :class:`Problem` names the file, the place in it (a path such as ``$.flows[3].owner`` or a
line and column), the flow or system concerned, what is wrong and how to fix it.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from expediter.errors import ConfigError


class Severity(StrEnum):
    ERROR = "error"
    """The hub would not run, or a flow would not work: ``check`` exits non-zero."""
    WARNING = "warning"
    """Worth knowing, but the hub runs."""


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    where: str
    """``$.flows[3].owner`` for a key, ``line 4, column 7`` for TOML syntax."""
    message: str
    fix: str
    subject: str = ""
    """``flow pos_to_kds`` / ``system square`` when known."""
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        subject = f" ({self.subject})" if self.subject else ""
        return f"{self.file}: {self.where}{subject}: {self.message} — fix: {self.fix}"


class CatalogError(ConfigError):
    """The catalog could not be loaded; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == Severity.ERROR]
