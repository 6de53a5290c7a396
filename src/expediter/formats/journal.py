"""The journal file exporter shared by the accounting connectors (Beancount, QuickBooks, Xero).

The engine builds the request's journal (:attr:`~expediter.plugin.ExportRequest.journal`: one
balanced entry per business date, a day with an unmapped account held and raised); each connector
only renders an entry as its product's file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from expediter.errors import TerminalError
from expediter.model.journal import JournalEntry
from expediter.plugin.base import ExportRequest, OutputFile

JOURNAL_DATA = "journal"

RenderJournal = Callable[[JournalEntry, ExportRequest], OutputFile]


def journal_file_name(location_id: str, business_date: date, suffix: str) -> str:
    """``journal_<location>_<YYYYMMDD>.<suffix>``: stable, so a re-run replaces the night's file."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in location_id)
    return f"journal_{safe}_{business_date:%Y%m%d}.{suffix}"


class JournalFileExporter:
    """``journal`` → one file per entry of the request's journal, written by the connector's ``render``.

    Building the entry (and holding it when an account is unmapped) is the same for every accounting
    product and is the engine's; only the file differs.
    """

    def __init__(self, connector: str, render: RenderJournal) -> None:
        self.connector = connector
        self.render = render

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data != JOURNAL_DATA:
            raise TerminalError(f"the {self.connector} connector writes the journal, not {data!r}")
        if request.journal is None:
            raise TerminalError(f"the {self.connector} connector was given no journal to write")
        return [self.render(entry, request) for entry in request.journal()]


__all__ = ["JOURNAL_DATA", "JournalFileExporter", "RenderJournal", "journal_file_name"]
