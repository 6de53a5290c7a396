"""The ``adp`` connector: ADP Workforce Now paydata (EPI) files, one per pay period.

The lead's payroll flow builds a :class:`~expediter.operations.labor.payroll.PayrollPeriod`, calls
:func:`~expediter.connectors.adp.formats.paydata_file` and hands the file to the SFTP transport.
"""

from __future__ import annotations

import msgspec

from expediter.connectors.adp.config import AdpSettings
from expediter.connectors.adp.formats import paydata_file
from expediter.connectors.base import (
    Capability,
    Connector,
    ConnectorContext,
    ExportRequest,
    OutputFile,
    own_settings,
)
from expediter.errors import ConfigError, TerminalError
from expediter.operations.labor.period import payroll_period

__all__ = ["CONNECTOR", "paydata_file", "settings_for"]


def settings_for(ctx: ConnectorContext) -> AdpSettings:
    try:
        return msgspec.convert(own_settings(ctx.system), AdpSettings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"system {ctx.system.id}: adp settings: {exc}") from None


class PayrollExporter:
    """The pay period's file; ``data`` must be ``payroll``."""

    def __init__(self, settings: AdpSettings, job_earning_codes: dict[str, str]) -> None:
        self.settings = settings
        self.job_earning_codes = job_earning_codes

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data != "payroll":
            raise TerminalError(f"the adp connector writes payroll files, not {data!r}")
        period = payroll_period(request)
        written = paydata_file(period, self.settings, self.job_earning_codes)
        return [OutputFile(name=written.name, data=written.content, records=written.records)]


def make_exporter(ctx: ConnectorContext) -> PayrollExporter:
    return PayrollExporter(settings_for(ctx), dict(ctx.catalog.mappings.job_earning_codes))


CONNECTOR = Connector(
    name="adp",
    title="ADP Workforce Now",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=AdpSettings,
    make_exporter=make_exporter,
    description="Paydata import files (PR<co code>EPI.csv): hours by job, overtime, tips, service charges.",
)
