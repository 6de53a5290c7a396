"""Settings of one kitchen printer system (one printer = one system = its own delivery lane).

Example::

    [[systems]]
    id = "printer_grill"
    kind = "printer"
    connector = "escpos"
    owner = "Chef"
    settings = { host = "10.0.0.31", port = 9100, station = "grill", mode = "when_screen_offline",
                 max_age_minutes = 30 }
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class PrintMode(StrEnum):
    ALWAYS = "always"
    """Print every ticket (a kitchen that runs on paper)."""
    WHEN_SCREEN_OFFLINE = "when_screen_offline"
    """Print only while no screen of the station is connected (the fallback)."""


class PrinterSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    host: str
    station: str
    port: int = 9100
    mode: PrintMode = PrintMode.ALWAYS
    max_age_minutes: int = 30
    """Orders older than this are skipped: a printer back after a night off must not dump stale tickets."""
    timeout_seconds: float = 5.0
    width: int = 42
    """Characters per line (42 on 80 mm paper with font A)."""
