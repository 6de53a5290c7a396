"""The Xero connector: exports the daily journal as a manual-journal import file."""

from __future__ import annotations

from expediter.connectors.base import Capability, Connector
from expediter.connectors.xero.config import XeroSettings

CONNECTOR = Connector(
    name="xero",
    title="Xero",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=XeroSettings,
    description="Daily sales journal as Xero's manual journal import CSV (one journal per location and day).",
)
