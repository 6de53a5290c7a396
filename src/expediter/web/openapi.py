"""The OpenAPI document of every route the hub serves, generated from the same msgspec types the
routes decode and answer with, so the document cannot drift from the code.

Each route is one :class:`Operation` in :func:`operations`: its request body type, its
parameters and every answer it gives (success and refusal) with its type or media type. A test
holds the list against the app's routes, and schemathesis holds the running hub against the
document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from expediter import __version__

REF = "#/components/schemas/{name}"
JSON = "application/json"
HTML = "text/html"
TEXT = "text/plain"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Answer:
    """One response: a msgspec type (JSON), or a media type with a plain string body."""

    description: str
    type: Any = None
    media: tuple[str, ...] = (JSON,)
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path, query or header
    description: str = ""
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    answers: dict[int, Answer]
    body: Any = None
    body_media: str = JSON
    params: tuple[Param, ...] = ()
    bearer: bool = False


def _path_params(path: str) -> tuple[Param, ...]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return tuple(Param(name, "path", required=True) for name in names)


def _error(error_body: Any, description: str) -> Answer:
    return Answer(description, error_body)


def _api_refusals(error: Any, *, body: bool) -> dict[int, Answer]:
    """What every bearer-token route of the API may answer besides success."""
    found = {
        401: _error(error, "No bearer token"),
        403: _error(error, "The token is not allowed (or not for this system or location)"),
    }
    if body:
        found |= {
            400: _error(error, "The body is not JSON (or not UTF-8, or nested too deep)"),
            413: _error(error, "The body is larger than 1 MiB"),
            422: _error(error, "The content is invalid; `where` holds the JSON path, `fix` says how"),
        }
    return found


def api_operations() -> list[Operation]:
    from expediter.model.labor import Employee, TimePunch
    from expediter.model.order import Order
    from expediter.web.api import ErrorBody, Health, OrderAccepted, WebhookAccepted
    from expediter.web.labor_api import Stored

    key = Param(
        "Idempotency-Key",
        "header",
        "Your own key for this content; a repeat stores nothing (200), the key reused for other"
        " content is refused (409)",
    )
    conflict = {409: _error(ErrorBody, "This Idempotency-Key was already used for other content")}
    stored = {202: Answer("Stored durably", Stored), 200: Answer("Already stored (a repeat)", Stored)}
    return [
        Operation(
            "post",
            "/api/v1/orders",
            "Accept a canonical order (stored durably before the answer)",
            "orders",
            {
                202: Answer("Stored durably", OrderAccepted),
                200: Answer("Already stored (a repeat)", OrderAccepted),
                **conflict,
                **_api_refusals(ErrorBody, body=True),
            },
            body=Order,
            params=(key,),
            bearer=True,
        ),
        Operation(
            "get",
            "/api/v1/orders/{order_id}",
            "The order as accepted (its latest version)",
            "orders",
            {200: Answer("The order", Order), 404: _error(ErrorBody, "No such order")}
            | _api_refusals(ErrorBody, body=False),
            bearer=True,
        ),
        Operation(
            "post",
            "/api/v1/webhooks/{system}",
            "A product's own webhook (Square, an online shop), verified with its signature scheme",
            "webhooks",
            {
                202: Answer("Stored durably", WebhookAccepted),
                200: Answer("Already stored (a repeat)", WebhookAccepted),
                400: _error(ErrorBody, "The body is not JSON (or not UTF-8, or nested too deep)"),
                401: _error(ErrorBody, "The signature is missing or wrong"),
                403: _error(ErrorBody, "The system may not send for this location"),
                404: _error(ErrorBody, "No such system, or it receives no webhooks"),
                409: _error(ErrorBody, "An event id reused for other content"),
                413: _error(ErrorBody, "The body is larger than 1 MiB"),
                422: _error(ErrorBody, "The payload is refused; `where` and `fix` say why"),
                503: _error(ErrorBody, "The system is not configured to verify webhooks"),
            },
            body=dict[str, Any],
        ),
        Operation(
            "post",
            "/api/v1/punches",
            "Accept a time punch (stored durably before the answer)",
            "labor",
            {**stored, **conflict, **_api_refusals(ErrorBody, body=True)},
            body=TimePunch,
            params=(key,),
            bearer=True,
        ),
        Operation(
            "post",
            "/api/v1/employees",
            "Accept an employee of the roster (stored durably before the answer)",
            "labor",
            {**stored, **conflict, **_api_refusals(ErrorBody, body=True)},
            body=Employee,
            params=(key,),
            bearer=True,
        ),
        Operation(
            "get",
            "/healthz",
            "Whether the hub is up and its parts run",
            "health",
            {200: Answer("Healthy", Health), 503: Answer("Up, but a part has stopped", Health)},
        ),
        Operation(
            "get", "/openapi.json", "This document", "health", {200: Answer("OpenAPI 3.1", dict[str, Any])}
        ),
    ]


def dashboard_operations() -> list[Operation]:
    from expediter.web.api import ErrorBody

    page = {200: Answer("The page", media=(HTML,))}
    return [
        Operation("get", "/", "The dashboard: every flow's health, alerts, dead letters", "dashboard", page),
        Operation(
            "get",
            "/transfers",
            "The ledger page, newest first",
            "dashboard",
            page,
            params=(
                Param("flow", "query", "Only this flow"),
                Param("outcome", "query", "Only this outcome (succeeded, failed, retrying, dead, ...)"),
            ),
        ),
        Operation(
            "get",
            "/printer",
            "What the demo's virtual kitchen printer printed",
            "dashboard",
            {**page, 404: Answer("No virtual printer runs in this hub", media=(TEXT,))},
        ),
        Operation(
            "post",
            "/dashboard/replay",
            "The Replay button: every dead letter of one flow back to pending",
            "dashboard",
            {
                303: Answer("Replayed; back to the dashboard", media=(TEXT,), headers=("Location",)),
                400: Answer("No such flow", media=(TEXT,)),
                403: Answer("Posted from a page of another site", media=(TEXT,)),
                413: _error(ErrorBody, "The body is larger than 1 MiB"),
            },
            body={"type": "object", "properties": {"flow": {"type": "string"}}, "required": ["flow"]},
            body_media=FORM,
        ),
        Operation("get", "/purchasing", "Vendor invoices and their open exceptions", "dashboard", page),
        Operation(
            "post",
            "/purchasing/resolve",
            "Accept or dispute one invoice exception",
            "dashboard",
            {
                303: Answer("Resolved; back to the page", media=(TEXT,), headers=("Location",)),
                400: Answer("No such exception, or not an action", media=(TEXT,)),
                403: Answer("Posted from a page of another site", media=(TEXT,)),
                413: _error(ErrorBody, "The body is larger than 1 MiB"),
            },
            body={
                "type": "object",
                "properties": {
                    "exception": {"type": "string"},
                    "action": {"type": "string", "enum": ["accept", "dispute"]},
                    "note": {"type": "string"},
                },
                "required": ["exception", "action"],
            },
            body_media=FORM,
        ),
        *reconciliation_operations(page),
        Operation("get", "/diagram", "The flow diagram page", "dashboard", page),
        Operation(
            "get",
            "/diagram.svg",
            "The flow diagram, coloured by health",
            "dashboard",
            {200: Answer("SVG", media=("image/svg+xml",))},
        ),
        Operation(
            "get",
            "/metrics",
            "Prometheus metrics",
            "dashboard",
            {200: Answer("The text exposition format", media=(TEXT,))},
        ),
        Operation(
            "get",
            "/static/dashboard/{name}",
            "The dashboard's stylesheet and script",
            "dashboard",
            {
                200: Answer("The file", media=("text/css", "text/javascript")),
                404: Answer("No such file", media=(TEXT,)),
            },
        ),
    ]


def reconciliation_operations(page: dict[int, Answer]) -> list[Operation]:
    from expediter.web.api import ErrorBody

    no_location = Answer("No such location in the catalog", media=(TEXT,))
    bad_date = Answer("Not a date, or out of range", media=(TEXT,))
    return [
        Operation(
            "get",
            "/reconciliation",
            "A month's reconciliation calendar for one location",
            "dashboard",
            {**page, 404: no_location},
            params=(
                Param("location", "query", "The location (default: the catalog's first)"),
                Param("month", "query", "YYYY-MM (default: this month)"),
            ),
        ),
        Operation(
            "post",
            "/reconciliation/run",
            "The Reconcile now button: one location-day reconciled again",
            "dashboard",
            {
                303: Answer("Reconciled; back to the day", media=(TEXT,), headers=("Location",)),
                400: bad_date,
                403: Answer("Posted from a page of another site", media=(TEXT,)),
                404: no_location,
                413: _error(ErrorBody, "The body is larger than 1 MiB"),
            },
            body={
                "type": "object",
                "properties": {"location": {"type": "string"}, "day": {"type": "string", "format": "date"}},
                "required": ["location", "day"],
            },
            body_media=FORM,
        ),
        Operation(
            "get",
            "/reconciliation/{location}/{day}",
            "One location-day: each check, its totals and the records that differ",
            "dashboard",
            {**page, 400: bad_date, 404: no_location},
        ),
        Operation(
            "get",
            "/trace",
            "One order's journey through every system",
            "dashboard",
            {**page, 404: Answer("No such order in the hub", media=(HTML,))},
            params=(Param("order", "query", "The order's id"),),
        ),
    ]


def kds_operations() -> list[Operation]:
    from expediter.operations.kitchen import Ticket
    from expediter.web.kds import (
        AvailabilityList,
        AvailabilityRequest,
        AvailabilitySet,
        Fired,
        FireRequest,
        KdsErrorBody,
        TicketList,
    )

    down = {503: _error(KdsErrorBody, "The kitchen service is not running")}
    unknown = {404: _error(KdsErrorBody, "No such station or ticket")}
    posted = {
        403: _error(KdsErrorBody, "Posted from a page of another site"),
        409: _error(KdsErrorBody, "Refused by the kitchen (e.g. nothing to recall)"),
        **down,
    }
    decoded = {
        400: _error(KdsErrorBody, "The body is not JSON (not UTF-8, cut short, nested too deep)"),
        413: _error(KdsErrorBody, "The body is larger than 1 MiB"),
        422: _error(KdsErrorBody, "The body does not match the schema"),
    }
    page = {200: Answer("The page", media=(HTML,))}
    asset = {200: Answer("The file", media=("text/javascript", "text/css"))}
    actions = [
        Operation(
            "post",
            f"/api/v1/kds/{{station}}/tickets/{{ticket_id}}/{action}",
            f"{action.capitalize()} a ticket",
            "kitchen",
            {200: Answer("The ticket", Ticket), **unknown, **posted},
        )
        for action in ("bump", "recall", "start")
    ]
    return [
        Operation("get", "/static/kds.js", "The screens' script", "kitchen", asset),
        Operation("get", "/static/kds.css", "The screens' stylesheet", "kitchen", asset),
        Operation("get", "/kds", "The list of station screens", "kitchen", {**page, **down}),
        Operation("get", "/kds/{station}", "A station's screen", "kitchen", {**page, **unknown, **down}),
        Operation(
            "get",
            "/kds/{station}/events",
            "A station's live feed (server-sent events; resumes after Last-Event-ID)",
            "kitchen",
            {
                200: Answer("The event stream", media=("text/event-stream",)),
                400: _error(KdsErrorBody, "The event position is not a number"),
                **unknown,
                **down,
            },
            params=(
                Param("after", "query", "Resume after this event id"),
                Param("Last-Event-ID", "header", "Resume after this event id (the browser's own)"),
            ),
        ),
        Operation(
            "post",
            "/api/v1/kds/fire",
            "Fire a held course of an order",
            "kitchen",
            {200: Answer("The tickets it changed", Fired), **unknown, **posted, **decoded},
            body=FireRequest,
        ),
        Operation(
            "post",
            "/api/v1/kds/availability",
            "86 an item, or bring it back",
            "kitchen",
            {200: Answer("Done", AvailabilitySet), **posted, **decoded},
            body=AvailabilityRequest,
        ),
        Operation(
            "get",
            "/api/v1/kds/availability",
            "The 86 list",
            "kitchen",
            {200: Answer("Every item off", AvailabilityList), **down},
            params=(Param("location_id", "query", "Only this location"),),
        ),
        Operation(
            "get",
            "/api/v1/kds/{station}/tickets",
            "A station's tickets, oldest first",
            "kitchen",
            {200: Answer("The tickets", TicketList), **unknown, **down},
            params=(
                Param(
                    "include_bumped",
                    "query",
                    "Also the bumped tickets",
                    {"type": "string", "enum": ["true", "false", "1", "0"]},
                ),
            ),
        ),
        Operation(
            "post",
            "/api/v1/kds/{station}/recall",
            "Recall the station's most recently bumped ticket",
            "kitchen",
            {200: Answer("The ticket", Ticket), **unknown, **posted},
        ),
        *actions,
    ]


def operations() -> list[Operation]:
    """Every route the hub serves (the benchmark's own routes aside)."""
    return [*api_operations(), *dashboard_operations(), *kds_operations()]


def _types(ops: list[Operation]) -> list[Any]:
    found: list[Any] = []
    for op in ops:
        candidates = [op.body, *(answer.type for answer in op.answers.values())]
        for kind in candidates:
            if kind is not None and not isinstance(kind, dict) and kind not in found:
                found.append(kind)
    return found


def _content(schema: dict[str, Any] | None, media: tuple[str, ...]) -> dict[str, Any]:
    return {m: {"schema": schema if schema is not None else {"type": "string"}} for m in media}


def _operation(op: Operation, schemas: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    params = [*_path_params(op.path), *op.params]
    found: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "responses": {}}
    if params:
        found["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required,
                "description": p.description,
                "schema": p.schema,
            }
            for p in params
        ]
    if op.bearer:
        found["security"] = [{"bearer": []}]
    if op.body is not None:
        schema = op.body if isinstance(op.body, dict) else schemas[op.body]
        found["requestBody"] = {"required": True, "content": {op.body_media: {"schema": schema}}}
    for status, answer in sorted(op.answers.items()):
        response: dict[str, Any] = {"description": answer.description}
        response["content"] = _content(schemas.get(answer.type), answer.media)
        if answer.headers:
            response["headers"] = {name: {"schema": {"type": "string"}} for name in answer.headers}
        found["responses"][str(status)] = response
    return found


def openapi_document() -> dict[str, Any]:
    ops = operations()
    types = _types(ops)
    refs, components = msgspec.json.schema_components(types, ref_template=REF)
    schemas = dict(zip(types, refs, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Expediter", "version": __version__},
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": paths,
    }
