"""The ``paychex`` connector: Paychex Standard Payroll Import files, one per pay period.

The lead's payroll flow builds a :class:`~expediter.operations.labor.payroll.PayrollPeriod`, calls
:func:`~expediter.connectors.paychex.formats.payroll_import_file` and hands the file to a transport.
"""

from __future__ import annotations

import msgspec

from expediter.connectors.base import Capability, Connector, ConnectorContext
from expediter.connectors.paychex.config import PaychexSettings
from expediter.connectors.paychex.formats import payroll_import_file
from expediter.errors import ConfigError

__all__ = ["CONNECTOR", "payroll_import_file", "settings_for"]


def settings_for(ctx: ConnectorContext) -> PaychexSettings:
    try:
        return msgspec.convert(ctx.system.settings, PaychexSettings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"system {ctx.system.id}: paychex settings: {exc}") from None


CONNECTOR = Connector(
    name="paychex",
    title="Paychex Flex",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=PaychexSettings,
    description="Standard Payroll Import files: hours by pay component, overtime, tips, service charges.",
)
