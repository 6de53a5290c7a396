"""The Xero connector: exports the daily journal as a manual-journal import file.

One CSV per location and business date (``journal_<location>_<YYYYMMDD>.csv``) in Xero's manual
journal import layout. A day with an unmapped account is held (see
:mod:`expediter.operations.accounting.export`) and the run fails saying what to map.
"""

from __future__ import annotations

import msgspec

from expediter.connectors.base import (
    Capability,
    Connector,
    ConnectorContext,
    ExportRequest,
    OutputFile,
    own_settings,
)
from expediter.connectors.xero.config import XeroSettings
from expediter.connectors.xero.formats import xero_manual_journal_csv
from expediter.errors import ConfigError, TerminalError
from expediter.operations.accounting.export import JOURNAL_DATA, journal_file_name, journals_for_request


def settings_for(ctx: ConnectorContext) -> XeroSettings:
    try:
        return msgspec.convert(own_settings(ctx.system), XeroSettings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"system {ctx.system.id}: xero settings: {exc}") from None


class XeroExporter:
    """``journal`` → one manual-journal import CSV per business date."""

    def __init__(self, settings: XeroSettings) -> None:
        self.settings = settings

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data != JOURNAL_DATA:
            raise TerminalError(f"the xero connector writes the journal, not {data!r}")
        return [
            OutputFile(
                name=journal_file_name(entry.location_id, entry.business_date, "csv"),
                data=xero_manual_journal_csv([entry], self.settings).encode("utf-8"),
                records=len(entry.lines),
            )
            for entry in journals_for_request(request)
        ]


def make_exporter(ctx: ConnectorContext) -> XeroExporter:
    return XeroExporter(settings_for(ctx))


CONNECTOR = Connector(
    name="xero",
    title="Xero",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=XeroSettings,
    make_exporter=make_exporter,
    description="Daily sales journal as Xero's manual journal import CSV (one journal per location and day).",
)
