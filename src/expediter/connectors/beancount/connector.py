"""The beancount connector: exports the daily journal as a beancount ledger file.

One file per location and business date (``journal_<location>_<YYYYMMDD>.beancount``): the ``open``
directives of the accounts it uses, then the day's transaction. A day with an unmapped account is
held (see :mod:`expediter.operations.accounting.export`) and the run fails saying what to map.
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
from expediter.connectors.beancount.config import BeancountSettings
from expediter.connectors.beancount.formats import beancount_journal
from expediter.errors import ConfigError, TerminalError
from expediter.operations.accounting.export import JOURNAL_DATA, journal_file_name, journals_for_request

CONTENT_TYPE = "text/plain; charset=utf-8"


def settings_for(ctx: ConnectorContext) -> BeancountSettings:
    try:
        return msgspec.convert(own_settings(ctx.system), BeancountSettings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"system {ctx.system.id}: beancount settings: {exc}") from None


class BeancountExporter:
    """``journal`` → one ``.beancount`` file per business date."""

    def __init__(self, settings: BeancountSettings) -> None:
        self.settings = settings

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data != JOURNAL_DATA:
            raise TerminalError(f"the beancount connector writes the journal, not {data!r}")
        files = []
        for entry in journals_for_request(request):
            text = beancount_journal([entry], self.settings)
            files.append(
                OutputFile(
                    name=journal_file_name(entry.location_id, entry.business_date, "beancount"),
                    data=text.encode("utf-8"),
                    records=len(entry.lines),
                    content_type=CONTENT_TYPE,
                )
            )
        return files


def make_exporter(ctx: ConnectorContext) -> BeancountExporter:
    return BeancountExporter(settings_for(ctx))


CONNECTOR = Connector(
    name="beancount",
    title="Beancount",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=BeancountSettings,
    make_exporter=make_exporter,
    description="Daily sales journal as beancount text (open directives and one transaction per day).",
)
