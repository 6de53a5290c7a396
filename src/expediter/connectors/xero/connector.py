"""The Xero connector: exports the daily journal as a manual-journal import file.

One CSV per location and business date (``journal_<location>_<YYYYMMDD>.csv``) in Xero's manual
journal import layout. A day with an unmapped account is held (see
:mod:`expediter.operations.accounting.export`) and the run fails saying what to map.
"""

from __future__ import annotations

from expediter.connectors.base import (
    Capability,
    Connector,
    ConnectorContext,
    ExportRequest,
    OutputFile,
    connector_settings,
)
from expediter.connectors.xero.config import XeroSettings
from expediter.connectors.xero.formats import xero_manual_journal_csv
from expediter.operations.accounting.export import JournalFileExporter, RenderJournal, journal_file_name
from expediter.operations.accounting.journal import JournalEntry


def settings_for(ctx: ConnectorContext) -> XeroSettings:
    return connector_settings(ctx, XeroSettings)


def render(settings: XeroSettings) -> RenderJournal:
    def file(entry: JournalEntry, request: ExportRequest) -> OutputFile:
        return OutputFile(
            name=journal_file_name(entry.location_id, entry.business_date, "csv"),
            data=xero_manual_journal_csv([entry], settings).encode("utf-8"),
            records=len(entry.lines),
        )

    return file


def make_exporter(ctx: ConnectorContext) -> JournalFileExporter:
    return JournalFileExporter("xero", render(settings_for(ctx)))


CONNECTOR = Connector(
    name="xero",
    title="Xero",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=XeroSettings,
    make_exporter=make_exporter,
    description="Daily sales journal as Xero's manual journal import CSV (one journal per location and day).",
)
