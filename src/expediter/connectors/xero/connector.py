"""The Xero connector: exports the daily journal as a manual-journal import file.

One CSV per location and business date (``journal_<location>_<YYYYMMDD>.csv``) in Xero's manual
journal import layout. A day with an unmapped account is held (see
:mod:`expediter.operations.accounting.export`) and the run fails saying what to map.
"""

from __future__ import annotations

from collections.abc import Callable

from expediter.connectors.xero.config import XeroSettings
from expediter.connectors.xero.formats import xero_bills_csv, xero_manual_journal_csv
from expediter.formats.bills import BillsAndJournal, bill_file_stem
from expediter.formats.journal import JournalFileExporter, RenderJournal, journal_file_name
from expediter.model.journal import JournalEntry
from expediter.model.vendors import APBill, BillKind
from expediter.plugin import (
    Capability,
    Connector,
    ConnectorContext,
    ExportRequest,
    OutputFile,
    connector_settings,
)


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


def render_bills(settings: XeroSettings) -> Callable[[list[APBill]], list[OutputFile]]:
    def files(bills: list[APBill]) -> list[OutputFile]:
        out = []
        for kind in (BillKind.BILL, BillKind.CREDIT):
            chosen = [bill for bill in bills if bill.kind is kind]
            if chosen:
                what = "bills" if kind is BillKind.BILL else "credit_notes"
                name = f"xero_{what}_{bill_file_stem(chosen[0])}.csv"
                out.append(
                    OutputFile(
                        name=name, data=xero_bills_csv(chosen, settings).encode("utf-8"), records=len(chosen)
                    )
                )
        return out

    return files


def make_exporter(ctx: ConnectorContext) -> BillsAndJournal:
    settings = settings_for(ctx)
    return BillsAndJournal(JournalFileExporter("xero", render(settings)), render_bills(settings))


CONNECTOR = Connector(
    name="xero",
    title="Xero",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=XeroSettings,
    make_exporter=make_exporter,
    description="Daily sales journal as Xero's manual journal import CSV (one journal per location and day).",
)
