"""The ``paychex`` connector: Paychex Standard Payroll Import files, one per pay period.

The lead's payroll flow builds a :class:`~expediter.operations.labor.payroll.PayrollPeriod`, calls
:func:`~expediter.connectors.paychex.formats.payroll_import_file` and hands the file to a transport.
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
from expediter.connectors.paychex.config import PaychexSettings
from expediter.connectors.paychex.formats import payroll_import_file
from expediter.errors import ConfigError, TerminalError
from expediter.operations.labor.period import payroll_period

__all__ = ["CONNECTOR", "payroll_import_file", "settings_for"]


def settings_for(ctx: ConnectorContext) -> PaychexSettings:
    try:
        return msgspec.convert(own_settings(ctx.system), PaychexSettings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"system {ctx.system.id}: paychex settings: {exc}") from None


class PayrollExporter:
    """The pay period's file; ``data`` must be ``payroll``."""

    def __init__(self, settings: PaychexSettings, job_earning_codes: dict[str, str]) -> None:
        self.settings = settings
        self.job_earning_codes = job_earning_codes

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data != "payroll":
            raise TerminalError(f"the paychex connector writes payroll files, not {data!r}")
        period = payroll_period(request)
        written = payroll_import_file(period, self.settings, self.job_earning_codes)
        return [OutputFile(name=written.name, data=written.content, records=written.records)]


def make_exporter(ctx: ConnectorContext) -> PayrollExporter:
    return PayrollExporter(settings_for(ctx), dict(ctx.catalog.mappings.job_earning_codes))


CONNECTOR = Connector(
    name="paychex",
    title="Paychex Flex",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=PaychexSettings,
    make_exporter=make_exporter,
    description="Standard Payroll Import files: hours by pay component, overtime, tips, service charges.",
)
