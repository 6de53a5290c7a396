"""The ``adp`` connector: ADP Workforce Now paydata (EPI) files, one per pay period.

The engine computes the pay period (:class:`~expediter.model.payroll.PayrollPeriod`), the exporter calls
:func:`~expediter.connectors.adp.formats.paydata_file` and hands the file to the SFTP transport.
"""

from __future__ import annotations

from expediter.connectors.adp.config import AdpSettings
from expediter.connectors.adp.formats import paydata_file
from expediter.formats.payroll import PayrollFileExporter
from expediter.plugin import Capability, Connector, ConnectorContext, connector_settings

__all__ = ["CONNECTOR", "paydata_file", "settings_for"]


def settings_for(ctx: ConnectorContext) -> AdpSettings:
    return connector_settings(ctx, AdpSettings)


def make_exporter(ctx: ConnectorContext) -> PayrollFileExporter:
    settings = settings_for(ctx)
    return PayrollFileExporter("adp", lambda period: paydata_file(period, settings))


CONNECTOR = Connector(
    name="adp",
    title="ADP Workforce Now",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=AdpSettings,
    make_exporter=make_exporter,
    description="Paydata import files (PR<co code>EPI.csv): hours by job, overtime, tips, service charges.",
)
