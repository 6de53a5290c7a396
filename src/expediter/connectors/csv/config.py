"""Settings of the generic CSV back-office export (``[systems.settings]`` of a csv system)."""

from __future__ import annotations

from typing import Literal

import msgspec

from expediter.formats.csv import LineEnding
from expediter.model.labor import Weekday


class CsvSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """No secrets here: the transport (SFTP, folder) holds the credentials."""

    line_ending: LineEnding = LineEnding.CRLF
    """``crlf`` (RFC 4180, what Excel and most importers expect) or ``lf``."""
    bom: bool = False
    """Start the file with a UTF-8 byte-order mark (helps Excel on Windows detect UTF-8)."""
    layouts: list[str] = msgspec.field(default_factory=lambda: ["sales_summary", "product_mix", "labor"])
    """Which files the nightly export writes."""
    layout_version: int = 1
    overtime_rules: Literal["federal", "california"] | None = None
    """``federal`` or ``california``: how the labor file splits regular and overtime hours; by
    default the location's ``[locations.labor]`` rules."""
    workweek_start: Weekday | None = None
    """The first day of the employer's fixed workweek (``sunday`` ... ``saturday``); by default
    the location's."""
    recipes: str = ""
    """The recipe book (TOML, see ``docs/inventory.md``) for the ``inventory_usage`` and
    ``purchase_order`` files: a path relative to the catalog's folder, or absolute."""
