"""The QuickBooks connector: posts the daily journal to QBO, or writes files for import.

- **Posting from a scheduled flow** (``data = "journal"``, ``level = "file"``,
  ``transport = "http"``): the exporter hands each day's entry to the connector's own transport,
  which posts it to QuickBooks Online through :class:`~.client.QuickBooksClient` (account names
  resolved to Ids, idempotent by document number). Each post is a transfer in the ledger with the
  QuickBooks Id; a failure is a failed transfer, transient or terminal by its HTTP status.
- **As a sink** it posts ``journal`` messages (real-time flows) the same way.
- **As an exporter** to a file transport it writes one file per location and business date: an IIF
  file for QuickBooks Desktop by default (``journal_<location>_<YYYYMMDD>.iif``), or, when the
  flow's ``format`` is ``qbo_json``, the QBO ``JournalEntry`` request body (every account needs its
  Id in ``account_ids`` then, as no QuickBooks is asked).

A day with an unmapped account is held (see :mod:`expediter.operations.accounting.export`) and the
run fails saying what to map.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec

from expediter.catalog.schema import Flow
from expediter.connectors.quickbooks.client import QuickBooksClient
from expediter.connectors.quickbooks.config import SECRET_SETTINGS, QuickBooksSettings
from expediter.connectors.quickbooks.formats import iif_bill, iif_journal, qbo_bill
from expediter.connectors.quickbooks.mapping import JSON, qbo_journal_entry
from expediter.formats.bills import AP_BILL_DATA, AP_BILLS, BillsAndJournal, bill_file_stem
from expediter.formats.journal import JournalFileExporter, RenderJournal, journal_file_name
from expediter.model.journal import JournalEntry
from expediter.model.vendors import APBill
from expediter.plugin import (
    Capability,
    Connector,
    ConnectorContext,
    ExportRequest,
    Outbound,
    OutputFile,
    Receipt,
    TerminalError,
    connector_settings,
)


class FileFormat(StrEnum):
    """What the exporter writes for a journal flow: IIF (the default), the QBO body as a file
    (``format = "qbo_json"``), or the entry for the QuickBooks Online post (``transport = "http"``)."""

    IIF = "iif"
    QBO_JSON = "qbo_json"
    QBO_API = "qbo_api"


class QuickBooksSink:
    """Delivers ``journal`` messages (a :class:`JournalEntry` as JSON) to QuickBooks Online."""

    def __init__(self, client: QuickBooksClient) -> None:
        self.client = client

    async def deliver(self, item: Outbound) -> Receipt:
        entry = msgspec.json.decode(item.payload, type=JournalEntry)
        posted = await self.client.post_journal(entry)
        return Receipt(
            records=len(entry.lines), bytes=len(item.payload), remote_ref=f"{posted.url}#{posted.remote_id}"
        )


class QuickBooksTransport:
    """The transport of a journal flow with ``transport = "http"``: each "file" is one day's
    entry, posted to QuickBooks Online. It takes no files in."""

    reports_remote_ref = True

    def __init__(self, client: QuickBooksClient) -> None:
        self.client = client
        self.endpoint = client.journal_url()

    async def upload(self, name: str, data: bytes) -> Receipt:
        try:
            entry = msgspec.json.decode(data, type=JournalEntry)
        except msgspec.ValidationError as exc:
            raise TerminalError(f"{name} is not a journal entry: {exc}") from None
        posted = await self.client.post_journal(entry)
        state = "created" if posted.created else "already in QuickBooks"
        return Receipt(
            records=len(entry.lines),
            bytes=len(data),
            remote_ref=f"JournalEntry {posted.remote_id} ({posted.document_number}, {state})",
        )

    async def list_files(self, pattern: str = "*") -> list[Any]:
        raise TerminalError("QuickBooks Online takes journal entries; it has no files to pick up")

    async def download(self, name: str) -> bytes:
        raise TerminalError("QuickBooks Online takes journal entries; it has no files to pick up")

    async def move_to_done(self, name: str) -> str:
        raise TerminalError("QuickBooks Online takes journal entries; it has no files to move")

    async def move_to_failed(self, name: str) -> str:
        raise TerminalError("QuickBooks Online takes journal entries; it has no files to move")

    async def close(self) -> None:
        return None


def settings_for(context: ConnectorContext) -> QuickBooksSettings:
    return connector_settings(context, QuickBooksSettings)


def make_sink(context: ConnectorContext) -> QuickBooksSink:
    return QuickBooksSink(QuickBooksClient(settings_for(context)))


def make_transport(context: ConnectorContext, flow_id: str = "") -> QuickBooksTransport:
    return QuickBooksTransport(QuickBooksClient(settings_for(context)))


def file_format(request: ExportRequest) -> FileFormat:
    flow = request.extra.get("flow")
    if isinstance(flow, Flow) and flow.transport == "http":
        return FileFormat.QBO_API
    chosen = flow.format if isinstance(flow, Flow) else ""
    return FileFormat.QBO_JSON if chosen == FileFormat.QBO_JSON else FileFormat.IIF


def render(settings: QuickBooksSettings) -> RenderJournal:
    def file(entry: JournalEntry, request: ExportRequest) -> OutputFile:
        chosen = file_format(request)
        if chosen is FileFormat.QBO_API:
            body, suffix, content_type = msgspec.json.encode(entry), "json", "application/json"
        elif chosen is FileFormat.QBO_JSON:
            body = msgspec.json.format(JSON.encode(qbo_journal_entry(entry, settings.account_ids)))
            suffix, content_type = "json", "application/json"
        else:
            # QuickBooks Desktop reads IIF as Windows-1252, not UTF-8; a character outside it
            # (an emoji in a memo) becomes "?" rather than failing the whole day's file.
            body = iif_journal([entry], settings).encode("cp1252", errors="replace")
            suffix, content_type = "iif", "text/plain; charset=windows-1252"
        return OutputFile(
            name=journal_file_name(entry.location_id, entry.business_date, suffix),
            data=body,
            records=len(entry.lines),
            content_type=content_type,
        )

    return file


def render_bills(bills: list[APBill], qbo_json: bool) -> list[OutputFile]:
    """One file per bill (QBO JSON) or one IIF file of all of them."""
    if qbo_json:
        return [
            OutputFile(
                name=f"{bill_file_stem(bill)}.json",
                data=msgspec.json.format(
                    msgspec.json.Encoder(decimal_format="number").encode(qbo_bill(bill))
                ),
                records=len(bill.lines),
                content_type="application/json",
            )
            for bill in bills
        ]
    stem = bill_file_stem(bills[0]) if len(bills) == 1 else f"bills_{len(bills)}_{bill_file_stem(bills[0])}"
    return [
        OutputFile(
            name=f"{stem}.iif",
            data=iif_bill(bills).encode("cp1252", errors="replace"),
            records=len(bills),
            content_type="text/plain; charset=windows-1252",
        )
    ]


class QuickBooksFiles(BillsAndJournal):
    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data == AP_BILL_DATA:
            bills = list(request.extra.get(AP_BILLS, []))
            return render_bills(bills, file_format(request) is FileFormat.QBO_JSON) if bills else []
        return super().export(data, request)


def make_exporter(context: ConnectorContext) -> QuickBooksFiles:
    journal = JournalFileExporter("quickbooks", render(settings_for(context)))
    return QuickBooksFiles(journal, lambda bills: [])


CONNECTOR = Connector(
    name="quickbooks",
    title="QuickBooks",
    capabilities=frozenset({Capability.SINK, Capability.EXPORT, Capability.TRANSPORT}),
    settings_type=QuickBooksSettings,
    secret_settings=SECRET_SETTINGS,
    make_sink=make_sink,
    make_transport=make_transport,
    make_exporter=make_exporter,
    description="Daily sales journal entries: posted to QuickBooks Online, or IIF files for Desktop.",
)
