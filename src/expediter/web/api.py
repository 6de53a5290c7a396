"""The HTTP ingest API: canonical orders, products' webhooks, health, and the OpenAPI document.

Every accepted request is answered only after the message is durably stored (202), a repeat of an
idempotency key gets 200 and stores nothing, and every refusal says what was wrong, where, and how
to fix it: ``{"error": ..., "where": ..., "fix": ...}``. Payloads are never logged.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from expediter.catalog.schema import ApiToken, Catalog
from expediter.catalog.secrets import hash_token
from expediter.engine.bus.health import running_bus_source
from expediter.engine.hub import Hub
from expediter.engine.inbox import Accepted, Conflict, StoredMessage
from expediter.errors import ConfigError, RejectedInput, TerminalError
from expediter.model import clock
from expediter.model.cards import (
    contains_card_number,
    holds_card_number,
    refuse_card_numbers,
)
from expediter.model.order import Order, refuse_implausible_order
from expediter.model.strict import is_unknown_field, strict_twin, with_unknown_fields
from expediter.monitor.drift import Arrival
from expediter.monitor.status import HEALTH_SOURCES, hub_status
from expediter.plugin.base import IncomingMessage, SignatureInvalid
from expediter.web.bodies import (
    UNREADABLE,
    BodyTooLarge,
    read_body,
    send_too_large,
    single_chunk,
    unreadable,
)
from expediter.web.roles import Caller, open_to

log = structlog.get_logger("expediter.api")

BENCH_ENV = "EXPEDITER_BENCH_BARE"
"""Set to ``1`` to add ``POST /api/v1/_bench/bare`` (decodes and validates, stores nothing)."""

_encode = msgspec.json.Encoder().encode
_decode_order = msgspec.json.Decoder(Order).decode
_decode_known_order = msgspec.json.Decoder(strict_twin(Order)).decode
_AT_PATH = re.compile(r" - at `(?P<path>\$[^`]*)`$")


class ErrorBody(msgspec.Struct, kw_only=True):
    error: str
    where: str = ""
    fix: str = ""


class OrderAccepted(msgspec.Struct, kw_only=True):
    message_id: int
    order_id: str
    duplicate: bool
    business_date: date | None
    idempotency_key: str


class WebhookAccepted(msgspec.Struct, kw_only=True):
    message_ids: list[int]
    duplicate: bool


class Health(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: str
    version: str
    problems: list[str] = []
    """Why the hub is unhealthy (``status`` ``unhealthy``, HTTP 503): each part that stopped."""


class ApiError(Exception):
    """A refusal; becomes an :class:`ErrorBody` response."""

    def __init__(self, status: int, error: str, *, where: str = "", fix: str = "") -> None:
        super().__init__(error)
        self.status = status
        self.body = ErrorBody(error=error, where=where, fix=fix)


def json_response(value: Any, status: int = 200) -> Response:
    return Response(_encode(value), status_code=status, media_type="application/json")


def error_response(exc: ApiError) -> Response:
    return json_response(exc.body, exc.status)


def rejected(exc: RejectedInput, status: int = 422) -> ApiError:
    return ApiError(status, exc.message, where=exc.where, fix=exc.fix)


# -- pieces of the order endpoint -----------------------------------------------------------------


class Tokens:
    """Bearer tokens checked against the catalog's sha256 hashes (the token itself is never kept)."""

    def __init__(self, entries: list[ApiToken]) -> None:
        self._by_hash = {entry.sha256.lower(): entry for entry in entries}

    def authenticate(self, headers: Mapping[str, str]) -> ApiToken:
        header = headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "missing bearer token",
                where="headers.Authorization",
                fix="send `Authorization: Bearer <token>` with a token listed in the catalog's api_tokens",
            )
        entry = self._by_hash.get(hash_token(token.strip()))
        if entry is None:
            raise ApiError(
                403,
                "this token is not allowed",
                where="headers.Authorization",
                fix="use a token whose sha256 is listed in the catalog's api_tokens",
            )
        return entry


def screen_json(body: bytes) -> None:
    """What a JSON body must be before anything else looks at it: UTF-8 throughout (400; the
    decoder would skip a field it does not know unread) and free of card numbers (422 naming the
    path). Checking UTF-8 costs nothing for the usual all-ASCII body."""
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise bad_json(exc) from None
    if holds_card_number(body):
        try:
            refuse_card_numbers(msgspec.json.decode(body))
        except UNREADABLE as exc:
            raise bad_json(exc) from None
        except RejectedInput as exc:
            raise rejected(exc) from None


def decode_order(body: bytes) -> tuple[Order, bool]:
    """The canonical order, checked: no card number, every value of its type and in bounds, its
    times near the hub's clock (422 naming the JSON path); 400 for bytes that are not JSON. And
    whether it holds only fields the model knows (one with an unknown field is still read)."""
    screen_json(body)
    try:
        order, known = _decode_checked(body)
    except msgspec.ValidationError as exc:
        raise invalid(exc, "order", "the Order schema") from None
    except UNREADABLE as exc:
        raise bad_json(exc) from None
    try:
        refuse_implausible_order(order, clock.now())
    except RejectedInput as exc:
        raise rejected(exc) from None
    return order, known


def _decode_checked(body: bytes) -> tuple[Order, bool]:
    """The decode is strict first (it sees an unknown field at no extra cost,
    :mod:`expediter.model.strict`); an order with one is decoded again as the model reads it, so
    the kitchen still gets it (the field is a schema drift)."""
    try:
        return _decode_known_order(body), True
    except msgspec.ValidationError as exc:
        if not is_unknown_field(exc):
            raise
    return _decode_order(body), False


def invalid(exc: msgspec.ValidationError, what: str, schema: str) -> ApiError:
    """422 with msgspec's message and the JSON path it names."""
    text = str(exc)
    match = _AT_PATH.search(text)
    return ApiError(
        422,
        _AT_PATH.sub("", text),
        where=match.group("path") if match else "$",
        fix=f"send a canonical {what} as described by {schema} in /openapi.json",
    )


def bad_json(exc: Exception) -> ApiError:
    """400 for a body that is not JSON at all (not UTF-8, nested too deeply, malformed)."""
    error, fix = unreadable(exc)
    return ApiError(400, error, where="body", fix=fix)


class Lookups:
    """The catalog's systems and locations by id, built once per app: the hot path never scans
    a list (a group's 5,000 locations would cost a scan per order)."""

    def __init__(self, catalog: Catalog) -> None:
        self.systems = {system.id: system for system in catalog.systems}
        self.locations = {location.id: location for location in catalog.locations}
        self.limits = {
            system.id: frozenset(system.locations) for system in catalog.systems if system.locations
        }
        """system id → the locations it serves, for the systems whose catalog entry lists some."""


def source_of(order: Order, token: ApiToken, lookups: Lookups) -> str:
    """Which system sent the order: the order says so, or the token may post as one system only."""
    source = order.source_system or (token.systems[0] if len(token.systems) == 1 else None)
    if source is None:
        raise ApiError(
            422,
            "the order does not say which system sent it",
            where="$.source_system",
            fix="set source_system to the id of a system in the catalog (e.g. your POS)",
        )
    if source not in lookups.systems:
        raise ApiError(
            422,
            f"unknown system {source!r}",
            where="$.source_system",
            fix="use the id of a system declared in the catalog",
        )
    if token.systems and source not in token.systems:
        raise ApiError(
            403,
            f"this token may not post as {source!r}",
            where="$.source_system",
            fix=f"use a token allowed for {source!r}, or one of {token.systems}",
        )
    return source


def refuse_other_locations(source: str, location_id: str, lookups: Lookups) -> None:
    """A system limited to some locations (its ``locations`` in the catalog) posts for those only."""
    served = lookups.limits.get(source)
    if served is not None and location_id not in served:
        raise ApiError(
            403,
            f"system {source!r} may not post for location {location_id!r}",
            where="$.location_id",
            fix=f"system {source!r} serves {', '.join(sorted(served))}; add {location_id!r} to"
            f" its locations in the catalog if it serves that location too",
        )


MAX_KEY_LENGTH = 255
"""An Idempotency-Key is an id (a UUID is 36 characters); it is stored, so it is bounded."""


def request_key(headers: Mapping[str, str], source: str) -> str | None:
    """The sender's ``Idempotency-Key``, scoped to its system (another system cannot shadow it);
    ``None`` without one. A key that holds a card number is refused: keys are stored."""
    given = headers.get("idempotency-key")
    if not given:
        return None
    if len(given) > MAX_KEY_LENGTH:
        raise ApiError(
            422,
            f"the Idempotency-Key is {len(given)} characters long; at most {MAX_KEY_LENGTH} are kept",
            where="headers.Idempotency-Key",
            fix="use the order's id and version (or a UUID) as the key",
        )
    if len(given) >= 13 and contains_card_number(given):
        raise ApiError(
            422,
            "the Idempotency-Key looks like a full card number; nothing was stored",
            where="headers.Idempotency-Key",
            fix="use the order's id and version (or any id of your own) as the key, never a card number",
        )
    return f"{source}:key:{given}"


def conflict_of(accepted: Accepted, what: str) -> ApiError | None:
    """409 when a key already stands for other content (see :class:`~expediter.engine.inbox.Conflict`)."""
    if accepted.conflict is None:
        return None
    if accepted.conflict is Conflict.REQUEST_KEY:
        return ApiError(
            409,
            f"this Idempotency-Key was already used for another {what}",
            where="headers.Idempotency-Key",
            fix=f"send a new key for each new {what} or version (its id and version make a good key)",
        )
    return ApiError(
        409,
        f"this {what} version was already accepted with other content",
        where="$.version",
        fix=f"send a changed {what} with a higher version; a retry must send the same content",
    )


def stamped(order: Order, source: str, lookups: Lookups) -> Order:
    """The order as stored: ``business_date`` from the location's own clock, ``source_system`` set."""
    location = lookups.locations.get(order.location_id)
    if location is None:
        raise ApiError(
            422,
            f"unknown location {order.location_id!r}",
            where="$.location_id",
            fix="use the id of a location declared in the catalog",
        )
    # Set in place: the decoded order is this request's own (a copy cost about a microsecond).
    order.business_date = location.business_date_for(order.opened_at)
    order.source_system = source
    return order


def check_location(token: ApiToken, location_id: str | None) -> None:
    """403 naming the location when the token is limited to others (``api_tokens.locations``)."""
    if token.locations and location_id not in token.locations:
        raise ApiError(
            403,
            f"this token may not send for location {location_id!r}",
            where="$.location_id",
            fix=f"use a token whose api_tokens entry lists {location_id!r} (this one: {token.locations})",
        )


# -- endpoints ------------------------------------------------------------------------------------


class OrdersApi:
    """``POST /api/v1/orders`` and ``GET /api/v1/orders/{id}``.

    The POST is the hot path, so it is written once against plain headers and bytes
    (:meth:`ingest`) and served both as a Starlette endpoint (:meth:`post`) and as a raw ASGI
    app (:func:`raw_asgi`, listed by :func:`fast_routes`) that :class:`expediter.web.app.HubApp`
    answers before Starlette's routing and request objects (measured: about 40 µs a request, a
    third of the bare rate).
    """

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.tokens = Tokens(hub.catalog.api_tokens)
        self.lookups = Lookups(hub.catalog)

    async def ingest(self, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """Validate, store durably, answer: (status, JSON body)."""
        try:
            token = self.tokens.authenticate(headers)
            order, known = decode_order(body)
            source = source_of(order, token, self.lookups)
            order = stamped(order, source, self.lookups)
            refuse_other_locations(source, order.location_id, self.lookups)
            check_location(token, order.location_id)
            given = request_key(headers, source)
        except ApiError as exc:
            return exc.status, _encode(exc.body)
        # One order version is one message however it arrives: its key is always the version's
        # own; the sender's Idempotency-Key (when sent) is kept beside it and leads to it again.
        key = f"{source}:{order.id}:{order.version}"
        order_id, business_date = order.id, order.business_date
        payload = _encode(order) if known else with_unknown_fields(body, _encode(order), Order)
        message = IncomingMessage(
            source_system=source,
            kind="orders",
            idempotency_key=key,
            payload=payload,
            location_id=order.location_id,
        )
        # The decoded order is a tree of a few hundred objects: freed now, while it is still in
        # the CPU's cache, not after the commit, when a thousand other requests have gone through
        # (measured on the ingest benchmark, two processes: 101 → 90 µs of CPU an order).
        del order
        arrival = Arrival.CHECKED if known else Arrival.UNCHECKED
        accepted = await self.hub.inbox.accept(
            message,
            ref=order_id,
            business_date=business_date,
            request_key=given,
            screened=True,
            arrival=arrival,
            raw=body,
        )
        conflict = conflict_of(accepted, "order")
        if conflict is not None:
            return conflict.status, _encode(conflict.body)
        answer = OrderAccepted(
            message_id=accepted.message_id,
            order_id=order_id,
            duplicate=accepted.duplicate,
            business_date=business_date,
            idempotency_key=headers.get("idempotency-key") or key,
        )
        return (200 if accepted.duplicate else 202), _encode(answer)

    async def validate_only(self, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """Benchmark baseline: the same parsing and checks as :meth:`ingest`, nothing stored."""
        try:
            token = self.tokens.authenticate(headers)
            order, _ = decode_order(body)
            order = stamped(order, source_of(order, token, self.lookups), self.lookups)
            refuse_other_locations(order.source_system or "", order.location_id, self.lookups)
            check_location(token, order.location_id)
            request_key(headers, order.source_system or "")
        except ApiError as exc:
            return exc.status, _encode(exc.body)
        _encode(order)
        answer = OrderAccepted(
            message_id=0,
            order_id=order.id,
            duplicate=False,
            business_date=order.business_date,
            idempotency_key="",
        )
        return 202, _encode(answer)

    @open_to(Caller.MACHINE)
    async def post(self, request: Request) -> Response:
        status, body = await self.ingest(request.headers, await request.body())
        return Response(body, status_code=status, media_type="application/json")

    @open_to(Caller.MACHINE)
    async def bare(self, request: Request) -> Response:
        status, body = await self.validate_only(request.headers, await request.body())
        return Response(body, status_code=status, media_type="application/json")

    @open_to(Caller.MACHINE)
    async def get(self, request: Request) -> Response:
        try:
            token = self.tokens.authenticate(request.headers)
        except ApiError as exc:
            return error_response(exc)
        order_id = request.path_params["order_id"]
        stored = await self._newest(order_id, token.systems)
        if stored is None:
            return error_response(
                ApiError(
                    404,
                    f"no order {order_id!r} was accepted",
                    where="path",
                    fix="check the order id (the hub's id, not the POS's)",
                )
            )
        return Response(stored.payload, media_type=stored.content_type)

    async def _newest(self, order_id: str, systems: list[str]) -> StoredMessage | None:
        """The highest version stored of ``order_id``, among the systems the token may read."""
        found = [
            m
            for m in await self.hub.inbox.all_by_ref("orders", order_id)
            if not systems or m.source_system in systems
        ]
        return max(found, key=lambda m: (_version_of(m.payload), m.id), default=None)


class _Versioned(msgspec.Struct):
    version: int = 1


def _version_of(payload: bytes) -> int:
    try:
        return msgspec.json.decode(payload, type=_Versioned).version
    except msgspec.DecodeError:
        return 0


Handler = Callable[[Mapping[str, str], bytes], Awaitable[tuple[int, bytes]]]


HOT_HEADERS = frozenset({b"authorization", b"idempotency-key"})
"""The only request headers the order endpoint reads (the others are not decoded)."""


def raw_asgi(
    handler: Handler, wanted: frozenset[bytes] = HOT_HEADERS
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A plain ASGI app around a (headers, body) → (status, body) handler. Only the ``wanted``
    headers (lower-case names, as ASGI gives them) are decoded and passed on: building a dict of
    every header cost a few microseconds a request on the hot path."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in wanted
        }
        first = await receive()
        body = single_chunk(first)
        if body is None:
            try:
                body = await read_body(receive, first)
            except BodyTooLarge:
                await send_too_large(send)
                return
            if body is None:
                return  # the client went away
        try:
            status, body = await handler(headers, body)
        except Exception:
            log.exception("request_failed", path=scope["path"])
            status, body = 500, _encode(ErrorBody(error="internal error; see the hub's log"))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def fast_routes(hub: Hub) -> dict[tuple[str, str], Callable[[Scope, Receive, Send], Awaitable[None]]]:
    """(method, path) → raw ASGI app, served ahead of the Starlette router (see :class:`OrdersApi`)."""
    orders = _orders_api(hub)
    found = {("POST", "/api/v1/orders"): raw_asgi(orders.ingest)}
    if os.environ.get(BENCH_ENV) == "1":
        found[("POST", "/api/v1/_bench/bare")] = raw_asgi(orders.validate_only)
    return found


def _orders_api(hub: Hub) -> OrdersApi:
    """One per hub, shared by the Starlette route and the fast path."""
    api = _ORDERS_APIS.get(hub)
    if api is None:
        api = _ORDERS_APIS[hub] = OrdersApi(hub)
    return api


_ORDERS_APIS: weakref.WeakKeyDictionary[Hub, OrdersApi] = weakref.WeakKeyDictionary()


class WebhooksApi:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @open_to(Caller.MACHINE)
    async def post(self, request: Request) -> Response:
        system_id = request.path_params["system"]
        try:
            messages = self._verified_messages(system_id, request, await request.body())
        except ApiError as exc:
            return error_response(exc)
        try:
            results = [await self.hub.inbox.accept(m, arrival=Arrival.UNCHECKED) for m in messages]
        except RejectedInput as exc:  # a card number in a payload that is not JSON
            return error_response(rejected(exc))
        duplicate = bool(results) and all(r.duplicate for r in results)
        body = WebhookAccepted(message_ids=[r.message_id for r in results], duplicate=duplicate)
        return json_response(body, 200 if duplicate else 202)

    def _verified_messages(self, system_id: str, request: Request, body: bytes) -> list[IncomingMessage]:
        if self.hub.catalog.system(system_id) is None:
            raise ApiError(
                404,
                f"unknown system {system_id!r}",
                where="path",
                fix="post to /api/v1/webhooks/<system id from the catalog>",
            )
        try:
            receiver = self.hub.webhook_for(system_id)
        except TerminalError as exc:
            raise ApiError(404, f"system {system_id!r} receives no webhooks: {exc}", where="path") from None
        headers = request.headers  # case-insensitive: connectors may ask for any spelling
        try:
            receiver.verify(headers, body, self._signed_url(request))
        except SignatureInvalid as exc:
            self.hub.note_signature_failure(system_id, str(exc), exc.hint)
            log.warning("webhook_signature_invalid", system=system_id, error=str(exc), hint=exc.hint)
            raise ApiError(401, f"signature invalid: {exc}", where="headers", fix=exc.hint) from None
        except ConfigError as exc:
            log.error("webhook_misconfigured", system=system_id, error=str(exc))
            raise ApiError(
                503,
                f"system {system_id!r} is not configured to verify webhooks",
                where="catalog",
                fix=str(exc),
            ) from None
        try:
            messages: list[IncomingMessage] = receiver.messages(headers, body)
            for message in messages:
                if "json" in message.content_type:
                    screen_json(message.payload)
        except RejectedInput as exc:
            raise rejected(exc) from None
        except UNREADABLE as exc:  # bytes the connector could not even read as JSON
            raise bad_json(exc) from None
        self._check_locations(system_id, messages)
        return messages

    def _check_locations(self, system_id: str, messages: list[IncomingMessage]) -> None:
        """A signed webhook speaks for its system: 403 for a location the system does not serve."""
        system = self.hub.catalog.system(system_id)
        served = system.locations if system is not None else []
        for message in messages:
            if served and message.location_id is not None and message.location_id not in served:
                raise ApiError(
                    403,
                    f"system {system_id!r} does not serve location {message.location_id!r}",
                    where="body",
                    fix=f"add {message.location_id!r} to the system's locations in the catalog ({served})",
                )

    def _signed_url(self, request: Request) -> str:
        """The URL the product signed: the hub's public URL when set (proxies rewrite hosts)."""
        public = self.hub.catalog.hub.public_url.rstrip("/")
        if not public:
            return str(request.url)
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{public}{request.url.path}{query}"


def routes(hub: Hub) -> list[BaseRoute]:
    from expediter import __version__
    from expediter.web.openapi import openapi_document

    orders, webhooks = _orders_api(hub), WebhooksApi(hub)
    document = _encode(openapi_document())
    health = _encode(Health(status="ok", version=__version__))

    @open_to(Caller.ANYONE)
    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    @open_to(Caller.ANYONE)
    async def healthz(request: Request) -> Response:
        runtime = hub.services.runtime
        problems = runtime.health_problems() if runtime is not None else []
        if not problems:
            return Response(health, media_type="application/json")
        return json_response(Health(status="unhealthy", version=__version__, problems=problems), 503)

    async def status(request: Request) -> Response:
        """What ``expediter status`` shows: 200 when healthy, else 503 (the same body)."""
        sources = [*HEALTH_SOURCES]
        if hub.bus is not None:
            sources.append(running_bus_source(hub.storage, hub.bus))
        report = await hub_status(
            hub.catalog, hub.storage.read, hub.storage.dialect.name, clock.now(), sources=sources
        )
        return json_response(report, 200 if report.healthy else 503)

    found: list[BaseRoute] = [
        Route("/api/v1/status", status, methods=["GET"]),
        Route("/api/v1/orders", orders.post, methods=["POST"]),
        Route("/api/v1/orders/{order_id}", orders.get, methods=["GET"]),
        Route("/api/v1/webhooks/{system}", webhooks.post, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    if os.environ.get(BENCH_ENV) == "1":
        found.append(Route("/api/v1/_bench/bare", orders.bare, methods=["POST"]))

        @open_to(Caller.ANYONE)
        async def storage_stats(request: Request) -> Response:
            stats = getattr(hub.storage, "stats", None)
            return json_response(stats.summary() if stats is not None else {})

        found.append(Route("/api/v1/_bench/storage", storage_stats, methods=["GET"]))
    return found
