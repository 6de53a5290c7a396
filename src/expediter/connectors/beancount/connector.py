"""The beancount connector: exports the daily journal as a beancount ledger file."""

from __future__ import annotations

from expediter.connectors.base import Capability, Connector
from expediter.connectors.beancount.config import BeancountSettings

CONNECTOR = Connector(
    name="beancount",
    title="Beancount",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=BeancountSettings,
    description="Daily sales journal as beancount text (open directives and one transaction per day).",
)
