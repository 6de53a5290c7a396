"""The ``adp`` connector: ADP Workforce Now paydata (EPI) files, one per pay period.

The lead's payroll flow builds a :class:`~expediter.operations.labor.payroll.PayrollPeriod`, calls
:func:`~expediter.connectors.adp.formats.paydata_file` and hands the file to the SFTP transport.
"""

from __future__ import annotations

import msgspec

from expediter.connectors.adp.config import AdpSettings
from expediter.connectors.adp.formats import paydata_file
from expediter.connectors.base import Capability, Connector, ConnectorContext
from expediter.errors import ConfigError

__all__ = ["CONNECTOR", "paydata_file", "settings_for"]


def settings_for(ctx: ConnectorContext) -> AdpSettings:
    try:
        return msgspec.convert(ctx.system.settings, AdpSettings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"system {ctx.system.id}: adp settings: {exc}") from None


CONNECTOR = Connector(
    name="adp",
    title="ADP Workforce Now",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=AdpSettings,
    description="Paydata import files (PR<co code>EPI.csv): hours by job, overtime, tips, service charges.",
)
