"""Expediter: an integration hub for restaurants.

The public surface is deliberately small; ``tests/test_public_surface.py`` locks it. Connector authors
need :class:`Connector` and the types beside it; everything else is reached through the CLI and HTTP.
"""

from expediter.errors import RejectedInput, TerminalError, TransientError
from expediter.model.money import Money
from expediter.model.order import Order
from expediter.plugin.base import (
    Capability,
    Connector,
    ConnectorContext,
    IncomingMessage,
    Outbound,
    Receipt,
)

__version__ = "0.1.0"

__all__ = [
    "Capability",
    "Connector",
    "ConnectorContext",
    "IncomingMessage",
    "Money",
    "Order",
    "Outbound",
    "Receipt",
    "RejectedInput",
    "TerminalError",
    "TransientError",
    "__version__",
]
