"""The ``paychex`` connector: Paychex Standard Payroll Import files, one per pay period.

The engine computes the pay period (:class:`~expediter.model.payroll.PayrollPeriod`), the exporter calls
:func:`~expediter.connectors.paychex.formats.payroll_import_file` and hands the file to a transport.
"""

from __future__ import annotations

from expediter.connectors.paychex.config import PaychexSettings
from expediter.connectors.paychex.formats import payroll_import_file
from expediter.formats.payroll import PayrollFileExporter
from expediter.plugin import Capability, Connector, ConnectorContext, connector_settings

__all__ = ["CONNECTOR", "payroll_import_file", "settings_for"]


def settings_for(ctx: ConnectorContext) -> PaychexSettings:
    return connector_settings(ctx, PaychexSettings)


def make_exporter(ctx: ConnectorContext) -> PayrollFileExporter:
    settings, codes = settings_for(ctx), dict(ctx.catalog.mappings.job_earning_codes)
    return PayrollFileExporter("paychex", lambda period: payroll_import_file(period, settings, codes))


CONNECTOR = Connector(
    name="paychex",
    title="Paychex Flex",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=PaychexSettings,
    make_exporter=make_exporter,
    description="Standard Payroll Import files: hours by pay component, overtime, tips, service charges.",
)
