"""Online ordering: signed marketplace webhooks in (86'd items refused), status and 86 back out.

In: ``POST /api/v1/webhooks/<system>`` with an :class:`~expediter.connectors.online.mapping.OnlineOrder`
signed as :mod:`expediter.connectors.online.signature` describes. An order naming an item that is 86'd
at its location is refused at once (422 with the item and location), so the marketplace can tell the
guest while they are still on the page. Accepted orders are stored raw (``online.order``) and the
processor turns them into canonical ``orders``.

Out: ``ticket_status`` and ``availability`` messages POSTed to ``settings.status_url`` /
``settings.availability_url``, signed the same way, with ``Idempotency-Key: <delivery key>``.

Services read from ``ConnectorContext.services`` (optional):

- ``availability``: an :class:`Availability`; without it nothing is refused as 86'd.
- ``http_transport``: an ``httpx.AsyncBaseTransport`` replacing the network (tests, the demo).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from expediter.connectors.online.client import OnlineClient
from expediter.connectors.online.config import SECRET_SETTINGS, OnlineSettings, online_settings
from expediter.connectors.online.mapping import (
    AvailabilityChange,
    OnlineOrder,
    TicketStatus,
    check_totals,
    decode_online_order,
    order_from_online,
)
from expediter.connectors.online.signature import verify_online_signature
from expediter.model.cards import refuse_card_numbers
from expediter.plugin import (
    AvailabilityService,
    Capability,
    Connector,
    ConnectorContext,
    IncomingMessage,
    Outbound,
    Receipt,
    RejectedInput,
    TerminalError,
    resolve_secret,
)

Availability = AvailabilityService
"""What the webhook asks of the hub's kitchen: whether an item is 86'd."""


def _secret(ctx: ConnectorContext, settings: OnlineSettings) -> str:
    return resolve_secret(settings.secret, setting=f"systems[{ctx.system.id}].settings.secret")


class OnlineWebhook:
    def __init__(self, ctx: ConnectorContext, settings: OnlineSettings, secret: str) -> None:
        self.system_id = ctx.system.id
        self.settings = settings
        self._secret = secret
        availability = ctx.services.availability
        self.availability: Availability | None = (
            availability if isinstance(availability, Availability) else None
        )

    def verify(self, headers: Mapping[str, str], body: bytes, url: str) -> None:
        verify_online_signature(
            headers, body, secret=self._secret, window_seconds=self.settings.replay_window_seconds
        )

    def messages(self, headers: Mapping[str, str], body: bytes) -> list[IncomingMessage]:
        order = decode_online_order(body)
        refuse_card_numbers(msgspec.json.decode(body))
        check_totals(order)
        location = self.settings.locations.get(order.location_id, order.location_id)
        self._refuse_86(order, location)
        return [
            IncomingMessage(
                source_system=self.system_id,
                kind="online.order",
                idempotency_key=f"{self.system_id}:online.order:{order.external_id}:{order.version}",
                payload=body,
                location_id=location,
            )
        ]

    def _refuse_86(self, order: OnlineOrder, location: str) -> None:
        """Refuse the order naming the first item (or modifier with a PLU) the kitchen has 86'd."""
        kitchen = self.availability
        if kitchen is None:
            return
        for index, item in enumerate(order.items):
            _refuse_if_86(kitchen, location, item.name, item.key(), f"$.items[{index}]")
            for m_index, modifier in enumerate(item.modifiers):
                if modifier.plu:
                    where = f"$.items[{index}].modifiers[{m_index}]"
                    _refuse_if_86(kitchen, location, modifier.name, modifier.plu, where)


def _refuse_if_86(kitchen: Availability, location: str, name: str, key: str, where: str) -> None:
    if not kitchen.is_available(location, key):
        raise RejectedInput(
            f"{name} ({key}) is 86'd at location {location}",
            where=where,
            fix="remove the item or offer the guest a substitute; it is unavailable right now",
        )


class OnlineProcessor:
    def __init__(self, ctx: ConnectorContext, settings: OnlineSettings) -> None:
        self.system_id = ctx.system.id
        self.settings = settings

    async def process(self, item: Outbound) -> list[IncomingMessage]:
        try:
            online = decode_online_order(item.payload)
        except RejectedInput as exc:
            raise TerminalError(f"stored online order does not decode: {exc}") from exc
        location = self.settings.locations.get(online.location_id, online.location_id)
        order = order_from_online(online, source_system=self.system_id, location_id=location)
        return [
            IncomingMessage(
                source_system=self.system_id,
                kind="orders",
                idempotency_key=f"{self.system_id}:{online.external_id}:{online.version}",
                payload=msgspec.json.encode(order),
                location_id=location,
            )
        ]


_OUTGOING: dict[str, tuple[str, type[msgspec.Struct]]] = {
    "ticket_status": ("status_url", TicketStatus),
    "availability": ("availability_url", AvailabilityChange),
}


class OnlineSink:
    """POSTs ``ticket_status`` and ``availability`` to the online system, signed and idempotent."""

    def __init__(self, system_id: str, settings: OnlineSettings, client: OnlineClient) -> None:
        self.system_id = system_id
        self.settings = settings
        self.client = client

    async def deliver(self, item: Outbound) -> Receipt:
        if item.kind not in _OUTGOING:
            raise TerminalError(f"the online sink takes {', '.join(_OUTGOING)}, not {item.kind}")
        setting, shape = _OUTGOING[item.kind]
        url = getattr(self.settings, setting)
        if not url:
            raise TerminalError(f"systems[{self.system_id}].settings.{setting} is not set")
        try:
            decoded = msgspec.json.decode(item.payload, type=shape)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise TerminalError(f"{item.kind} message does not decode: {exc}") from exc
        if isinstance(decoded, TicketStatus) and decoded.source_system not in (None, self.system_id):
            # Ready notices go to the system the order came from; a dine-in check is not ours.
            return Receipt(records=0, remote_ref=f"not an order of {self.system_id}")
        await self.client.post(url, item.payload, idempotency_key=item.delivery_key)
        return Receipt(records=1, bytes=len(item.payload), remote_ref=url)


def make_webhook(ctx: ConnectorContext) -> OnlineWebhook:
    settings = online_settings(ctx.system.settings, ctx.system.id)
    return OnlineWebhook(ctx, settings, _secret(ctx, settings))


def make_processor(ctx: ConnectorContext) -> OnlineProcessor:
    return OnlineProcessor(ctx, online_settings(ctx.system.settings, ctx.system.id))


def make_sink(ctx: ConnectorContext) -> OnlineSink:
    settings = online_settings(ctx.system.settings, ctx.system.id)
    client = OnlineClient(
        _secret(ctx, settings), timeout=settings.timeout_seconds, transport=ctx.services.http_transport
    )
    return OnlineSink(ctx.system.id, settings, client)


CONNECTOR = Connector(
    name="online",
    title="Online ordering (generic marketplace webhook)",
    capabilities=frozenset({Capability.WEBHOOK, Capability.PROCESS, Capability.SINK}),
    settings_type=OnlineSettings,
    secret_settings=SECRET_SETTINGS,
    make_sink=make_sink,
    make_webhook=make_webhook,
    make_processor=make_processor,
    description=(
        "Signed online orders in (HMAC over timestamp.body, replay window, 86'd items refused), mapped "
        "to canonical orders; order-ready status and 86 changes posted back, signed and idempotent."
    ),
)
