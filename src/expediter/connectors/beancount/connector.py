"""The beancount connector: exports the daily journal as a beancount ledger file.

One file per location and business date (``journal_<location>_<YYYYMMDD>.beancount``): the ``open``
directives of the accounts it uses, then the day's transaction. A day with an unmapped account is
held (see :mod:`expediter.operations.accounting.export`) and the run fails saying what to map.
"""

from __future__ import annotations

from collections.abc import Callable

from expediter.connectors.beancount.config import BeancountSettings
from expediter.connectors.beancount.formats import beancount_bills, beancount_journal
from expediter.formats.bills import BillsAndJournal, bill_file_stem
from expediter.formats.journal import JournalFileExporter, RenderJournal, journal_file_name
from expediter.model.journal import JournalEntry
from expediter.model.vendors import APBill
from expediter.plugin import (
    Capability,
    Connector,
    ConnectorContext,
    ExportRequest,
    OutputFile,
    connector_settings,
)

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


def render_bills(settings: BeancountSettings) -> Callable[[list[APBill]], list[OutputFile]]:
    def files(bills: list[APBill]) -> list[OutputFile]:
        return [
            OutputFile(
                name=f"{bill_file_stem(bill)}.beancount",
                data=beancount_bills([bill], settings).encode("utf-8"),
                records=len(bill.lines),
                content_type=CONTENT_TYPE,
            )
            for bill in bills
        ]

    return files


def make_exporter(ctx: ConnectorContext) -> BillsAndJournal:
    settings = settings_for(ctx)
    return BillsAndJournal(JournalFileExporter("beancount", render(settings)), render_bills(settings))


CONNECTOR = Connector(
    name="beancount",
    title="Beancount",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=BeancountSettings,
    make_exporter=make_exporter,
    description="Daily sales journal as beancount text (open directives and one transaction per day).",
)
