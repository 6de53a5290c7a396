"""The beancount connector: exports the daily journal as a beancount ledger file.

One file per location and business date (``journal_<location>_<YYYYMMDD>.beancount``): the ``open``
directives of the accounts it uses, then the day's transaction. A day with an unmapped account is
held (see :mod:`expediter.operations.accounting.export`) and the run fails saying what to map.
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
from expediter.connectors.beancount.config import BeancountSettings
from expediter.connectors.beancount.formats import beancount_journal
from expediter.operations.accounting.export import JournalFileExporter, RenderJournal, journal_file_name
from expediter.operations.accounting.journal import JournalEntry

CONTENT_TYPE = "text/plain; charset=utf-8"


def settings_for(ctx: ConnectorContext) -> BeancountSettings:
    return connector_settings(ctx, BeancountSettings, strict=False)


def render(settings: BeancountSettings) -> RenderJournal:
    def file(entry: JournalEntry, request: ExportRequest) -> OutputFile:
        types = request.catalog.mappings.account_types
        return OutputFile(
            name=journal_file_name(entry.location_id, entry.business_date, "beancount"),
            data=beancount_journal([entry], settings, types).encode("utf-8"),
            records=len(entry.lines),
            content_type=CONTENT_TYPE,
        )

    return file


def make_exporter(ctx: ConnectorContext) -> JournalFileExporter:
    return JournalFileExporter("beancount", render(settings_for(ctx)))


CONNECTOR = Connector(
    name="beancount",
    title="Beancount",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=BeancountSettings,
    make_exporter=make_exporter,
    description="Daily sales journal as beancount text (open directives and one transaction per day).",
)
