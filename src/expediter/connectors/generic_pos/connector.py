"""The generic POS connector: any POS that speaks the canonical order JSON.

As a source, the POS posts to the hub's ``POST /api/v1/orders`` (no code needed here). As a
destination (e.g. online orders injected into the POS), the sink POSTs each canonical order to
``settings.url`` with ``Idempotency-Key: <delivery_key>``, so a retry never creates a second check.
"""

from __future__ import annotations

import httpx
import msgspec

from expediter.connectors.generic_pos.client import PosClient
from expediter.connectors.generic_pos.config import GenericPosSettings
from expediter.connectors.generic_pos.mapping import order_to_pos
from expediter.ledger.transfers import checksum_of
from expediter.plugin import (
    Capability,
    Connector,
    ConnectorContext,
    Outbound,
    Receipt,
    TerminalError,
    connector_settings,
    resolve_secret,
)

HTTP_TRANSPORT_SERVICE = "http_transport"
"""An ``httpx`` transport in ``hub.services`` under this name replaces the network (tests)."""


class StatusNotice(msgspec.Struct, kw_only=True):
    """What the sink reads of a ``ticket_status`` message (the kitchen's own type has more)."""

    order_id: str
    source_system: str | None = None


class PosSink:
    def __init__(self, client: PosClient, system_id: str = "", status_url: str = "") -> None:
        self.client = client
        self.system_id = system_id
        self.status_url = status_url

    async def deliver(self, item: Outbound) -> Receipt:
        if item.kind == "ticket_status":
            return await self._status(item)
        if item.kind != "orders":
            raise TerminalError(f"the generic POS takes orders and ticket_status, not {item.kind}")
        body = order_to_pos(item.payload)
        response = await self.client.post_order(body, idempotency_key=item.delivery_key)
        return Receipt(
            records=1,
            bytes=len(body),
            remote_ref=response.headers.get("location", self.client.url),
            checksum=checksum_of(body),
        )

    async def _status(self, item: Outbound) -> Receipt:
        """Ready notices for the POS's own checks go to ``status_url``; others are not its business."""
        notice = msgspec.json.decode(item.payload, type=StatusNotice)
        if notice.source_system not in (None, self.system_id):
            return Receipt(records=0, remote_ref=f"not an order of {self.system_id}")
        if not self.status_url:
            raise TerminalError(f"system {self.system_id!r} has no settings.status_url for kitchen status")
        await self.client.post(self.status_url, item.payload, idempotency_key=item.delivery_key)
        return Receipt(records=1, bytes=len(item.payload), remote_ref=self.status_url)

    async def aclose(self) -> None:
        await self.client.close()


def settings_of(context: ConnectorContext) -> GenericPosSettings:
    return connector_settings(context, GenericPosSettings)


def make_sink(context: ConnectorContext) -> PosSink:
    settings = settings_of(context)
    if not settings.url and not settings.status_url:
        raise TerminalError(f"system {context.system.id!r} has no settings.url to send orders to")
    # A token written inline is refused (ConfigError), never silently dropped: secrets are references.
    token = (
        resolve_secret(settings.token, setting=f"systems[{context.system.id}].settings.token")
        if settings.token
        else ""
    )
    transport: httpx.AsyncBaseTransport | None = context.services.http_transport
    client = PosClient(settings.url, token=token, timeout=settings.timeout_seconds, transport=transport)
    return PosSink(client, context.system.id, settings.status_url)


CONNECTOR = Connector(
    name="generic_pos",
    title="Generic POS (canonical order JSON)",
    capabilities=frozenset({Capability.SINK}),
    settings_type=GenericPosSettings,
    secret_settings=frozenset({"token"}),
    make_sink=make_sink,
    description="Orders in through POST /api/v1/orders; out by POST to the POS with an Idempotency-Key.",
)
