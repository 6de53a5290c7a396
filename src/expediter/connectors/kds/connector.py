"""The ``kds`` connector declaration: a sink into the hub's kitchen service (``ctx.services.kitchen``)."""

from __future__ import annotations

from expediter.connectors.kds.client import KdsSink
from expediter.connectors.kds.config import KdsSettings
from expediter.plugin import Capability, ConfigError, Connector, ConnectorContext, KitchenService


def make_sink(ctx: ConnectorContext) -> KdsSink:
    kitchen = ctx.services.kitchen
    if not isinstance(kitchen, KitchenService):
        raise ConfigError(
            f"system {ctx.system.id!r} uses the kds connector but the hub has no kitchen service; "
            "start the hub with the kitchen enabled"
        )
    return KdsSink(kitchen)


CONNECTOR = Connector(
    name="kds",
    title="Built-in kitchen display screens",
    capabilities=frozenset({Capability.SINK, Capability.KITCHEN_SCREENS, Capability.KITCHEN_SERVICE}),
    settings_type=KdsSettings,
    make_sink=make_sink,
    description="Routes orders to kitchen stations and shows them live on the hub's KDS screens "
    "(/kds/{station}), with bump, recall, courses, all-day counts and 86.",
)
