"""Square POS: webhooks in, orders fetched and mapped, polling fallback, "order ready" back out.

The webhook path stores Square's event as it came (``square.event``, key ``square:<event_id>``); the
processor then fetches the full order (events carry only id, version and state) and emits a canonical
``orders`` message keyed ``<system>:<square order id>:<version>``. Polling emits the very same keys, so
an order seen by both paths enters the hub once. An older version never overwrites a newer one: the
``order_versions`` service says which version the hub already has.

An order the mapping refuses (a quantity that is no number, an amount out of bounds: see
:func:`~expediter.model.order.refuse_implausible_order`) raises ``RejectedInput``: on the webhook
path the engine makes the event's processing a dead letter at once, with the reason; a poll
hands such an order on as it came (``square.order``, key ``<system>:polled-order:<id>:<version>``)
so that it too becomes a dead letter of the processing, replayable once the cause is fixed, while
the poll goes on with the other orders.

Services read from ``ConnectorContext.services`` (all optional):

- ``order_versions``: an :class:`OrderVersions`; without it every fetched version is emitted.
- ``http_transport``: an ``httpx.AsyncBaseTransport`` replacing the network (tests, the demo).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any

import msgspec
import structlog

from expediter.connectors.square.client import SquareClient
from expediter.connectors.square.config import (
    SECRET_SETTINGS,
    SquareSettings,
    square_settings,
)
from expediter.connectors.square.mapping import order_from_square, punch_from_timecard, reconcile
from expediter.connectors.square.signature import verify_square_signature
from expediter.connectors.square.wire import SqEvent, SqOrder, SqTimecard
from expediter.model.bounds import encoded_within_bounds
from expediter.model.labor import refuse_implausible_punch
from expediter.model.order import refuse_implausible_order
from expediter.plugin import (
    Capability,
    ConfigError,
    Connector,
    ConnectorContext,
    IncomingMessage,
    OrderVersionsService,
    Outbound,
    Receipt,
    RejectedInput,
    SettingProblem,
    TerminalError,
    resolve_secret,
)

log = structlog.get_logger(__name__)

ORDER_EVENTS = frozenset({"order.created", "order.updated", "order.fulfillment.updated"})
TIMECARD_EVENTS = frozenset(
    {"labor.timecard.created", "labor.timecard.updated", "labor.shift.created", "labor.shift.updated"}
)
READY_STATUSES = frozenset({"ready", "bumped", "done"})
"""``ticket_status`` values that mean "the order is ready for the guest"."""
_FINISHED_FULFILLMENTS = frozenset({"PREPARED", "COMPLETED", "CANCELED", "FAILED"})
POLLED_ORDER = "square.order"
"""The kind of a polled Square order the mapping refused, stored as it came to be processed."""


OrderVersions = OrderVersionsService
"""What the processor asks of the hub: the newest version of an order it holds, to skip it."""


def settings_of(ctx: ConnectorContext) -> SquareSettings:
    return square_settings(ctx.system.settings, ctx.system.id)


def notification_url_of(ctx: ConnectorContext, settings: SquareSettings) -> str:
    if settings.notification_url:
        return settings.notification_url
    public = ctx.catalog.hub.public_url.rstrip("/")
    if not public:
        raise ConfigError(
            f"systems[{ctx.system.id}].settings.notification_url is empty and hub.public_url is not set: "
            "set notification_url to the URL registered in Square's webhook subscription"
        )
    return f"{public}/api/v1/webhooks/{ctx.system.id}"


def client_of(ctx: ConnectorContext, settings: SquareSettings) -> SquareClient:
    token = resolve_secret(settings.access_token, setting=f"systems[{ctx.system.id}].settings.access_token")
    return SquareClient(
        settings.api_base(),
        token,
        square_version=settings.square_version,
        timeout=settings.timeout_seconds,
        transport=ctx.services.http_transport,
    )


class SquareWebhook:
    """Verifies Square's signature and stores the event raw, keyed by Square's event id."""

    def __init__(self, system_id: str, settings: SquareSettings, signature_key: str, url: str) -> None:
        self.system_id = system_id
        self.settings = settings
        self._signature_key = signature_key
        self.notification_url = url

    def verify(self, headers: Mapping[str, str], body: bytes, url: str) -> None:
        verify_square_signature(
            headers,
            body,
            signature_key=self._signature_key,
            notification_url=self.notification_url,
            request_url=url,
            setting=f"systems[{self.system_id}].settings.notification_url",
        )

    def messages(self, headers: Mapping[str, str], body: bytes) -> list[IncomingMessage]:
        try:
            event = msgspec.json.decode(body, type=SqEvent)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RejectedInput(f"not a Square webhook event: {exc}", fix="send Square's event JSON") from exc
        square_location = event.inner().get("location_id")
        return [
            IncomingMessage(
                source_system=self.system_id,
                kind="square.event",
                idempotency_key=f"square:{event.event_id}",
                payload=body,
                location_id=self.settings.locations.get(square_location) if square_location else None,
            )
        ]


class SquareOrders:
    """Turns fetched Square orders into canonical ``orders`` messages (webhook and polling alike)."""

    def __init__(self, ctx: ConnectorContext, settings: SquareSettings, client: SquareClient) -> None:
        self.system_id = ctx.system.id
        self.settings = settings
        self.client = client
        versions = ctx.services.order_versions
        self.versions: OrderVersions | None = versions if isinstance(versions, OrderVersions) else None

    def hub_location(self, square_location: str) -> str:
        location = self.settings.locations.get(square_location)
        if location is None:
            raise TerminalError(
                f"Square location {square_location} is not mapped to a hub location: add "
                f'"{square_location}" = "<location id>" to systems[{self.system_id}].settings.locations'
            )
        return location

    async def messages_for(self, sq: SqOrder) -> list[IncomingMessage]:
        if not sq.id:
            raise TerminalError("Square returned an order without an id")
        if sq.state == "DRAFT":
            # A draft is a cart nobody placed yet: it must not reach the kitchen or the books.
            log.debug("square.draft_skipped", order_id=sq.id, version=sq.version)
            return []
        if await self._not_newer(sq.id, sq.version):
            return []
        location = self.hub_location(sq.location_id)
        try:
            order = order_from_square(sq, source_system=self.system_id, location_id=location)
            refuse_implausible_order(order)
            payload = encoded_within_bounds(order)
        except RejectedInput as exc:
            raise RejectedInput(
                f"Square order {sq.id} version {sq.version}: {exc.message}", where=exc.where, fix=exc.fix
            ) from None
        mismatches = reconcile(sq, order)
        if mismatches:
            log.warning("square.totals_mismatch", order_id=sq.id, version=sq.version, mismatches=mismatches)
        return [
            IncomingMessage(
                source_system=self.system_id,
                kind="orders",
                idempotency_key=f"{self.system_id}:{sq.id}:{sq.version}",
                payload=payload,
                location_id=location,
            )
        ]

    async def _not_newer(self, order_id: str, version: int) -> bool:
        if self.versions is None:
            return False
        latest = await self.versions.latest_version(self.system_id, order_id)
        if latest is not None and version <= latest:
            log.debug("square.stale_version", order_id=order_id, version=version, latest=latest)
            return True
        return False


class SquareProcessor:
    """Fetches what a stored ``square.event`` names and emits canonical orders or punches."""

    def __init__(self, orders: SquareOrders) -> None:
        self.orders = orders
        self._handlers: dict[str, Callable[[SqEvent], Coroutine[Any, Any, list[IncomingMessage]]]] = {
            **dict.fromkeys(ORDER_EVENTS, self._order_event),
            "payment.created": self._payment_event,
            "payment.updated": self._payment_event,
            "refund.created": self._payment_event,
            "refund.updated": self._payment_event,
            **dict.fromkeys(TIMECARD_EVENTS, self._timecard_event),
        }

    async def process(self, item: Outbound) -> list[IncomingMessage]:
        if item.kind == POLLED_ORDER:
            try:
                polled = msgspec.json.decode(item.payload, type=SqOrder)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise TerminalError(f"stored Square order does not decode: {exc}") from exc
            return await self.orders.messages_for(polled)
        try:
            event = msgspec.json.decode(item.payload, type=SqEvent)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise TerminalError(f"stored Square event does not decode: {exc}") from exc
        handler = self._handlers.get(event.type)
        if handler is None:
            log.debug("square.event_ignored", event_type=event.type, event_id=event.event_id)
            return []
        return await handler(event)

    async def _order_event(self, event: SqEvent) -> list[IncomingMessage]:
        order_id = event.inner().get("order_id") or event.data.id
        if not order_id:
            raise TerminalError(f"Square event {event.event_id} ({event.type}) names no order")
        return await self.orders.messages_for(await self.orders.client.retrieve_order(order_id))

    async def _payment_event(self, event: SqEvent) -> list[IncomingMessage]:
        """Payments and refunds change an order's tenders: fetch that order when there is one."""
        order_id = event.inner().get("order_id")
        if not order_id:
            log.debug("square.no_order", event_type=event.type, event_id=event.event_id, why="no order_id")
            return []
        try:
            order = await self.orders.client.retrieve_order(order_id)
        except TerminalError as exc:
            log.debug("square.no_order", event_type=event.type, event_id=event.event_id, why=str(exc))
            return []
        return await self.orders.messages_for(order)

    async def _timecard_event(self, event: SqEvent) -> list[IncomingMessage]:
        try:
            timecard = msgspec.convert(event.inner(), SqTimecard)
        except msgspec.ValidationError as exc:
            raise TerminalError(f"Square event {event.event_id}: timecard does not decode: {exc}") from exc
        location = self.orders.hub_location(timecard.location_id)
        punch = punch_from_timecard(timecard, location_id=location)
        refuse_implausible_punch(punch)
        payload = encoded_within_bounds(punch, f"Square timecard {timecard.id} version {timecard.version}: ")
        system = self.orders.system_id
        return [
            IncomingMessage(
                source_system=system,
                kind="punches",
                idempotency_key=f"{system}:timecard:{timecard.id}:{timecard.version}",
                payload=payload,
                location_id=location,
            )
        ]


class TicketNotice(msgspec.Struct, kw_only=True):
    """The part of a hub ``ticket_status`` message this sink reads (other fields are ignored)."""

    order_id: str
    status: str
    external_id: str | None = None
    source_system: str | None = None


class SquareStatusSink:
    """Marks a Square order's open fulfillments PREPARED (Square's "ready") when its ticket is ready."""

    def __init__(self, system_id: str, client: SquareClient) -> None:
        self.system_id = system_id
        self.client = client

    async def deliver(self, item: Outbound) -> Receipt:
        if item.kind != "ticket_status":
            raise TerminalError(f"the Square sink takes ticket_status messages, not {item.kind}")
        try:
            notice = msgspec.json.decode(item.payload, type=TicketNotice)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise TerminalError(f"ticket_status does not decode: {exc}") from exc
        square_id = self._square_order_id(notice)
        if notice.status not in READY_STATUSES or square_id is None:
            return Receipt(records=0, remote_ref="nothing to tell Square")
        order = await self.client.retrieve_order(square_id)
        updates = [
            {"uid": f.uid, "state": "PREPARED"}
            for f in order.fulfillments
            if f.uid and f.state not in _FINISHED_FULFILLMENTS
        ]
        remote = f"{self.client.base_url}/v2/orders/{square_id}"
        if not updates:
            return Receipt(records=0, remote_ref=remote)
        sparse = {"location_id": order.location_id, "version": order.version, "fulfillments": updates}
        await self.client.update_order(square_id, sparse, idempotency_key=item.delivery_key)
        return Receipt(records=len(updates), bytes=len(msgspec.json.encode(sparse)), remote_ref=remote)

    def _square_order_id(self, notice: TicketNotice) -> str | None:
        if notice.external_id and notice.source_system in (None, self.system_id):
            return notice.external_id
        prefix = f"{self.system_id}-"
        return notice.order_id[len(prefix) :] if notice.order_id.startswith(prefix) else None


async def poll(ctx: ConnectorContext, window_start: datetime, window_end: datetime) -> list[IncomingMessage]:
    """Orders updated in [window_start, window_end) at every mapped Square location, as ``orders``
    messages with the webhook path's keys (so the inbox keeps one of each)."""
    settings = settings_of(ctx)
    orders = SquareOrders(ctx, settings, client_of(ctx, settings))
    square_locations = sorted(settings.locations)
    if not square_locations:
        raise ConfigError(f"systems[{ctx.system.id}].settings.locations is empty: nothing to poll")
    result: list[IncomingMessage] = []
    async for sq in orders.client.search_orders(square_locations, window_start, window_end):
        try:
            result.extend(await orders.messages_for(sq))
        except RejectedInput as exc:
            log.warning("square.order_refused", order_id=sq.id, version=sq.version, error=str(exc))
            result.append(_refused(ctx.system.id, sq, orders.hub_location(sq.location_id)))
    return result


def check(ctx: ConnectorContext) -> list[SettingProblem]:
    """What a Square system cannot work without: the signature key and the URL Square signs (every
    webhook is refused without them) and the access token (no event's order can be fetched)."""
    settings = settings_of(ctx)
    found = []
    if not settings.signature_key:
        found.append(
            SettingProblem(
                key="signature_key",
                message="no signature key: Square signs every webhook with it, so every webhook"
                " would be refused",
                fix='signature_key = "env:SQUARE_SIGNATURE_KEY", the key of this webhook subscription'
                " (Square Developer Console → Webhooks → your subscription)",
            )
        )
    if not settings.notification_url and not ctx.catalog.hub.public_url:
        found.append(
            SettingProblem(
                key="notification_url",
                message="no notification URL, and hub.public_url is not set: Square signs the URL it posts"
                " to, so no webhook could be verified",
                fix="set notification_url to the URL registered in Square's webhook subscription, or"
                f" hub.public_url to how Square reaches the hub (then .../api/v1/webhooks/{ctx.system.id})",
            )
        )
    if not settings.access_token:
        found.append(
            SettingProblem(
                key="access_token",
                message="no access token: the order each Square event names could not be fetched",
                fix='access_token = "env:SQUARE_ACCESS_TOKEN" (an OAuth or personal access token)',
            )
        )
    return found


def _refused(system_id: str, sq: SqOrder, location: str) -> IncomingMessage:
    """A polled order the mapping refused, as it came: its processing will say why."""
    return IncomingMessage(
        source_system=system_id,
        kind=POLLED_ORDER,
        idempotency_key=f"{system_id}:polled-order:{sq.id}:{sq.version}",
        payload=msgspec.json.encode(sq),
        location_id=location,
    )


def make_webhook(ctx: ConnectorContext) -> SquareWebhook:
    settings = settings_of(ctx)
    key = resolve_secret(settings.signature_key, setting=f"systems[{ctx.system.id}].settings.signature_key")
    return SquareWebhook(ctx.system.id, settings, key, notification_url_of(ctx, settings))


def make_processor(ctx: ConnectorContext) -> SquareProcessor:
    settings = settings_of(ctx)
    return SquareProcessor(SquareOrders(ctx, settings, client_of(ctx, settings)))


def make_sink(ctx: ConnectorContext) -> SquareStatusSink:
    return SquareStatusSink(ctx.system.id, client_of(ctx, settings_of(ctx)))


CONNECTOR = Connector(
    name="square",
    title="Square POS",
    capabilities=frozenset({Capability.WEBHOOK, Capability.PROCESS, Capability.POLL, Capability.SINK}),
    settings_type=SquareSettings,
    secret_settings=SECRET_SETTINGS,
    make_sink=make_sink,
    make_webhook=make_webhook,
    make_processor=make_processor,
    poll=poll,
    check=check,
    description=(
        "Square webhooks (orders, payments, refunds, timecards) verified and stored, full orders fetched "
        "with RetrieveOrder and mapped to canonical orders; SearchOrders polling fallback; ticket ready "
        "marks the order's fulfillments PREPARED."
    ),
)
