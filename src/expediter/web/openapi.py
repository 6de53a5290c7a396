"""The OpenAPI document of every route the hub serves, generated from the same msgspec types the
routes decode and answer with, so the document cannot drift from the code.

Each route is one :class:`Operation` in :func:`operations`: who calls it and the least role it
needs (the marks of :mod:`expediter.web.roles`), its request body type, its parameters and every
answer it gives (success and refusal) with its type or media type. The answers of the one door
every route goes through (:mod:`expediter.web.guard`: sign in, pair the screen, role, CSRF token)
are added from the caller and the role, as the door gives them. A test holds the list, callers and
roles against the app's routes, and schemathesis holds the running hub against the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from expediter import __version__
from expediter.web.people import DEVICE_COOKIE, SESSION_COOKIE
from expediter.web.roles import Caller, Role

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
    caller: Caller = Caller.PERSON
    """Who calls it (:func:`expediter.web.roles.caller_of` of the route)."""
    role: Role = Role.VIEWER
    """The least role it needs (:func:`expediter.web.roles.role_needed` of the route)."""


def _path_params(path: str) -> tuple[Param, ...]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return tuple(Param(name, "path", required=True) for name in names)


def _error(error_body: Any, description: str) -> Answer:
    return Answer(description, error_body)


def _form(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    """A form's body: its fields, and ``csrf`` (the page's CSRF token, or the header instead)."""
    every = {**properties, "csrf": {"type": "string", "description": "The page's CSRF token"}}
    return {"type": "object", "properties": every, "required": list(required)}


REDIRECT = ("Location",)
CSRF = Param(
    "X-CSRF-Token",
    "header",
    "The session's (a device's) CSRF token, if the body does not carry it as the form field `csrf`",
)


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


def flow_page_operations() -> list[Operation]:
    """A page per flow, its runbook, and the operator's buttons on it (forms posted from the page)."""
    page = {200: Answer("The page", media=(HTML,)), 404: Answer("No such flow", media=(TEXT,))}
    back = {
        303: Answer("Done; back to the flow page with what happened", media=(), headers=REDIRECT),
        404: Answer("No such flow", media=(TEXT,)),
        413: Answer("The body is larger than 1 MiB", media=(JSON,)),
    }
    refused = {400: Answer("The form does not name what to act on", media=(TEXT,))}
    transfers = (
        Param("location", "query", "Only this location"),
        Param("outcome", "query", "Only this outcome (succeeded, failed, retrying, dead, ...)"),
        Param("from", "query", "From this business date (YYYY-MM-DD)"),
        Param("to", "query", "Up to this business date (YYYY-MM-DD)"),
        Param("q", "query", "Text in the transfer's reference or error"),
    )

    def form(*fields: str) -> dict[str, Any]:
        return _form({name: {"type": "string"} for name in fields})

    return [
        Operation(
            "get",
            "/flows/health.json",
            "Every flow's health now (what the home page colours)",
            "dashboard",
            {200: Answer("Health per flow", dict[str, Any])},
        ),
        Operation(
            "get",
            "/flows/{flow_id}",
            "A flow's page: its documentation, owner, transfers, dead letters, alerts and drills",
            "dashboard",
            page,
            params=transfers,
        ),
        Operation("get", "/flows/{flow_id}/runbook", "The flow's runbook page", "dashboard", page),
        Operation(
            "post",
            "/flows/{flow_id}/replay",
            "Replay one dead letter of the flow (delivery=ID) or all of them (delivery=all)",
            "dashboard",
            {**back, **refused},
            body=form("delivery"),
            body_media=FORM,
            role=Role.OPERATOR,
        ),
        Operation(
            "post",
            "/flows/{flow_id}/run",
            "Run a scheduled flow now for a location and business date",
            "dashboard",
            {**back, 400: Answer("Not a scheduled flow, no such location, or a bad date", media=(TEXT,))},
            body=form("location", "date"),
            body_media=FORM,
            role=Role.OPERATOR,
        ),
        Operation(
            "post",
            "/flows/{flow_id}/drill",
            "Start a drill of the flow: its alert must fire, reach its channels and resolve",
            "dashboard",
            {**back, 400: Answer("No running hub to drill in", media=(TEXT,))},
            body=form(),
            body_media=FORM,
            role=Role.OPERATOR,
        ),
        Operation(
            "post",
            "/flows/{flow_id}/alerts/{alert_id}/ack",
            "Acknowledge one of the flow's alerts",
            "dashboard",
            {**back, 404: Answer("No such flow, or no such alert of the flow", media=(TEXT,))},
            params=(Param("alert_id", "path", "The alert's number", {"type": "integer"}, True),),
            body=form(),
            body_media=FORM,
            role=Role.OPERATOR,
        ),
    ]


def api_operations() -> list[Operation]:
    from expediter.model.labor import Employee, TimePunch
    from expediter.model.order import Order
    from expediter.monitor.status import HubStatus
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
            caller=Caller.MACHINE,
        ),
        Operation(
            "get",
            "/api/v1/orders/{order_id}",
            "The order as accepted (its latest version)",
            "orders",
            {200: Answer("The order", Order), 404: _error(ErrorBody, "No such order")}
            | _api_refusals(ErrorBody, body=False),
            bearer=True,
            caller=Caller.MACHINE,
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
            caller=Caller.MACHINE,
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
            caller=Caller.MACHINE,
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
            caller=Caller.MACHINE,
        ),
        Operation(
            "get",
            "/healthz",
            "Whether the hub is up and its parts run",
            "health",
            {200: Answer("Healthy", Health), 503: Answer("Up, but a part has stopped", Health)},
            caller=Caller.ANYONE,
        ),
        Operation(
            "get",
            "/api/v1/status",
            "The hub group's processes, database, delivery lag and health sources (expediter status)",
            "health",
            {200: Answer("Healthy", HubStatus), 503: Answer("Unhealthy: see problems", HubStatus)},
        ),
        Operation(
            "get",
            "/openapi.json",
            "This document",
            "health",
            {200: Answer("OpenAPI 3.1", dict[str, Any])},
            caller=Caller.ANYONE,
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
                303: Answer("Replayed; back to the dashboard", media=(), headers=REDIRECT),
                400: Answer("No such flow (or not one of the person's locations)", media=(TEXT,)),
                413: _error(ErrorBody, "The body is larger than 1 MiB"),
            },
            body=_form({"flow": {"type": "string"}}, "flow"),
            body_media=FORM,
            role=Role.OPERATOR,
        ),
        Operation("get", "/purchasing", "Vendor invoices and their open exceptions", "dashboard", page),
        Operation(
            "post",
            "/purchasing/resolve",
            "Accept or dispute one invoice exception",
            "dashboard",
            {
                303: Answer("Resolved; back to the page", media=(), headers=REDIRECT),
                400: Answer("No such exception, or not an action", media=(TEXT,)),
                403: Answer("That vendor serves locations the person does not see", media=(TEXT,)),
                413: _error(ErrorBody, "The body is larger than 1 MiB"),
            },
            body=_form(
                {
                    "exception": {"type": "string"},
                    "action": {"type": "string", "enum": ["accept", "dispute"]},
                    "note": {"type": "string"},
                },
                "exception",
                "action",
            ),
            body_media=FORM,
            role=Role.OPERATOR,
        ),
        *flow_page_operations(),
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
            caller=Caller.ANYONE,
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
            caller=Caller.ANYONE,
        ),
    ]


def imports_operations() -> list[Operation]:
    from expediter.web.api import ErrorBody
    from expediter.web.imports import UploadAccepted

    page = {200: Answer("The page", media=(HTML,))}
    no_import = {404: Answer("No such import", media=(TEXT,))}
    done = {
        303: Answer("Done; to the import's page", media=(), headers=REDIRECT),
        413: _error(ErrorBody, "The body is larger than 1 MiB"),
    }
    return [
        Operation("get", "/imports", "The upload form and the recent imports", "dashboard", page),
        Operation(
            "put",
            "/imports/upload",
            "A file to import, as the body: read and checked in the background, then previewed",
            "dashboard",
            {
                202: Answer("Stored; read in the background (its page shows how far)", UploadAccepted),
                403: _error(ErrorBody, "Not one of the person's locations"),
                413: _error(ErrorBody, "The file is larger than 1 GiB"),
                422: _error(ErrorBody, "No such flow or location, or the date is not a date"),
            },
            body={"type": "string", "format": "binary"},
            body_media="application/octet-stream",
            params=(
                Param("flow", "query", "The inbound flow to import into", required=True),
                Param("location", "query", "The location", required=True),
                Param("date", "query", "The business date, YYYY-MM-DD (default: today's)"),
                Param("name", "query", "The file's name, as the ledger shows it"),
            ),
            role=Role.OPERATOR,
        ),
        Operation(
            "get",
            "/imports/{import_id}",
            "An import: how far its reading got, then every problem by row and column",
            "dashboard",
            {**page, **no_import},
        ),
        Operation(
            "get",
            "/imports/{import_id}/quarantine.csv",
            "The import's bad rows, with their reasons, as a CSV to fix and import again",
            "dashboard",
            {200: Answer("The CSV", media=("text/csv",)), **no_import},
        ),
        Operation(
            "post",
            "/imports/{import_id}/commit",
            "Commit the import's good rows",
            "dashboard",
            {**done, **no_import, 409: Answer("Not committed, and why", media=(TEXT,))},
            body=_form({}),
            body_media=FORM,
            role=Role.OPERATOR,
        ),
        Operation(
            "post",
            "/imports/{import_id}/discard",
            "Discard the preview",
            "dashboard",
            {**done, **no_import},
            body=_form({}),
            body_media=FORM,
            role=Role.OPERATOR,
        ),
    ]


def reconciliation_operations(page: dict[int, Answer]) -> list[Operation]:
    from expediter.web.api import ErrorBody

    no_location = Answer("No such location in the catalog (or not one of the person's)", media=(TEXT,))
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
                303: Answer("Reconciled; back to the day", media=(), headers=REDIRECT),
                400: bad_date,
                404: no_location,
                413: _error(ErrorBody, "The body is larger than 1 MiB"),
            },
            body=_form(
                {"location": {"type": "string"}, "day": {"type": "string", "format": "date"}},
                "location",
                "day",
            ),
            body_media=FORM,
            role=Role.OPERATOR,
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
    posted = {409: _error(KdsErrorBody, "Refused by the kitchen (e.g. nothing to recall)"), **down}
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
            caller=Caller.DEVICE,
            role=Role.OPERATOR,
        )
        for action in ("bump", "recall", "start")
    ]
    return [
        Operation("get", "/static/kds.js", "The screens' script", "kitchen", asset, caller=Caller.ANYONE),
        Operation(
            "get", "/static/kds.css", "The screens' stylesheet", "kitchen", asset, caller=Caller.ANYONE
        ),
        Operation("get", "/kds", "The list of station screens", "kitchen", {**page, **down}),
        Operation(
            "get",
            "/kds/{station}",
            "A station's screen (on a device not paired yet: its pairing code)",
            "kitchen",
            {**page, **unknown, **down},
            caller=Caller.SCREEN,
        ),
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
            caller=Caller.DEVICE,
        ),
        Operation(
            "post",
            "/api/v1/kds/fire",
            "Fire a held course of an order",
            "kitchen",
            {200: Answer("The tickets it changed", Fired), **unknown, **posted, **decoded},
            body=FireRequest,
            caller=Caller.DEVICE,
            role=Role.OPERATOR,
        ),
        Operation(
            "post",
            "/api/v1/kds/availability",
            "86 an item, or bring it back",
            "kitchen",
            {200: Answer("Done", AvailabilitySet), **posted, **decoded},
            body=AvailabilityRequest,
            caller=Caller.DEVICE,
            role=Role.OPERATOR,
        ),
        Operation(
            "get",
            "/api/v1/kds/availability",
            "The 86 list",
            "kitchen",
            {200: Answer("Every item off", AvailabilityList), **down},
            params=(Param("location_id", "query", "Only this location"),),
            caller=Caller.DEVICE,
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
            caller=Caller.DEVICE,
        ),
        Operation(
            "post",
            "/api/v1/kds/{station}/recall",
            "Recall the station's most recently bumped ticket",
            "kitchen",
            {200: Answer("The ticket", Ticket), **unknown, **posted},
            caller=Caller.DEVICE,
            role=Role.OPERATOR,
        ),
        *actions,
    ]


def people_operations() -> list[Operation]:
    from expediter.web.api import ErrorBody

    page = {200: Answer("The page", media=(HTML,))}
    too_large = {413: _error(ErrorBody, "The body is larger than 1 MiB")}
    back = {303: Answer("Done or refused: back to the page, which says which", media=(), headers=REDIRECT)}
    return [
        Operation(
            "get",
            "/login",
            "The sign-in form",
            "people",
            {
                **page,
                303: Answer("Signed in already: on to `next`", media=(), headers=REDIRECT),
                503: Answer("No user yet: the page says how to add the first", media=(HTML,)),
            },
            params=(Param("next", "query", "Where to go once signed in (a path of this hub)"),),
            caller=Caller.ANYONE,
        ),
        Operation(
            "post",
            "/login",
            "Sign in: a session cookie, then on to `next`",
            "people",
            {
                303: Answer("Signed in: on to `next`", media=(), headers=REDIRECT),
                401: Answer("Wrong name or password: the form again", media=(HTML,)),
                403: Answer("The form is out of date, or from another site: the form again", media=(HTML,)),
                429: Answer("Too many failed sign-ins for this name: wait", media=(HTML,)),
                **too_large,
            },
            body=_form(
                {"name": {"type": "string"}, "password": {"type": "string"}, "next": {"type": "string"}},
                "name",
                "password",
            ),
            body_media=FORM,
            caller=Caller.ANYONE,
        ),
        Operation(
            "post",
            "/logout",
            "Sign out: the session ends",
            "people",
            {303: Answer("Signed out: to the sign-in page", media=(), headers=REDIRECT), **too_large},
        ),
        Operation(
            "get",
            "/devices",
            "Kitchen screens waiting for their code to be approved, and the paired devices",
            "people",
            page,
            params=(
                Param("done", "query", "What was just done"),
                Param("error", "query", "What was refused"),
            ),
            role=Role.OPERATOR,
        ),
        Operation(
            "post",
            "/devices/approve",
            "Approve a screen's pairing code for a location and its stations",
            "people",
            {**back, **too_large},
            body=_form(
                {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "location": {"type": "string", "description": "A location id, or `*` for every one"},
                    "stations": {"type": "array", "items": {"type": "string"}},
                },
                "code",
                "location",
            ),
            body_media=FORM,
            role=Role.OPERATOR,
        ),
        Operation(
            "post",
            "/devices/revoke",
            "Revoke a paired device: it must be paired again",
            "people",
            {**back, **too_large},
            body=_form({"device": {"type": "string"}}, "device"),
            body_media=FORM,
            role=Role.ADMIN,
        ),
        Operation(
            "get",
            "/audit",
            "The audit log: who did what, when",
            "people",
            page,
            params=(
                Param("since", "query", "The period", {"type": "string", "enum": ["1h", "24h", "7d", "30d"]}),
                Param("user", "query", "Only this person's (or device's) actions"),
            ),
            role=Role.ADMIN,
        ),
    ]


def edge_operations() -> list[Operation]:
    from expediter.edge.group import EdgeList
    from expediter.edge.links import EdgeStatus
    from expediter.web.api import ErrorBody

    return [
        Operation(
            "get",
            "/api/v1/edge",
            "This restaurant's link to the group: connected or offline since when, how far relayed",
            "edges",
            {200: Answer("The link", EdgeStatus), 404: Answer("This hub is no restaurant edge", ErrorBody)},
        ),
        Operation(
            "get",
            "/api/v1/edges",
            "Each restaurant edge: online, offline since when, or catching up (how many behind)",
            "edges",
            {200: Answer("The edges", EdgeList), 404: Answer("This hub watches no edges", ErrorBody)},
        ),
    ]


def operations() -> list[Operation]:
    """Every route the hub serves (the benchmark's own routes aside)."""
    return [
        *api_operations(),
        *edge_operations(),
        *dashboard_operations(),
        *imports_operations(),
        *kds_operations(),
        *people_operations(),
    ]


# -- the door's answers --------------------------------------------------------------------------------

WHO = {
    Caller.PERSON: "a signed-in person",
    Caller.DEVICE: "a paired kitchen device (it acts as an operator of its stations)",
    Caller.SCREEN: "anyone: a paired device sees its screen, any other browser a pairing code",
    Caller.MACHINE: "a machine with its own credential (an API token or a webhook signature)",
    Caller.ANYONE: "anyone",
}
SECURITY: dict[Caller, list[dict[str, list[str]]]] = {
    Caller.PERSON: [{"session": []}],
    Caller.DEVICE: [{"device": []}],
    Caller.SCREEN: [{"device": []}, {}],
}


def _who(op: Operation) -> str:
    if op.caller in (Caller.PERSON, Caller.DEVICE):
        return f"For {WHO[op.caller]} with the role {op.role.value} or above."
    return f"For {WHO[op.caller]}."


def door_answers(op: Operation) -> dict[int, Answer]:
    """What :mod:`expediter.web.guard` answers instead of the route, for the route's caller and role."""
    from expediter.web.kds import KdsErrorBody

    unsafe = op.method != "get"
    forged = "the CSRF token is missing or out of date, or another site's page sent it"
    if op.caller is Caller.PERSON:
        found = {
            503: Answer("Nobody can sign in yet: the page says how to add the first user", media=(HTML,))
        }
        if unsafe:
            found[401] = Answer("Not signed in", media=(HTML,))
        else:
            found[303] = Answer("Not signed in: to the sign-in page", media=(), headers=REDIRECT)
        refusals = [f"the person is not an {op.role.value}"] if op.role is not Role.VIEWER else []
        if unsafe:
            refusals.append(forged)
        if refusals:
            found[403] = Answer("Refused: " + "; or ".join(refusals), media=(HTML,))
        return found
    if op.caller is Caller.DEVICE:
        found = {401: Answer("This device is not paired with the hub", KdsErrorBody)}
        refusals = ["the device is paired for other stations"] if "{station}" in op.path else []
        if unsafe:
            refusals.append(forged)
        if refusals:
            found[403] = Answer("Refused: " + "; or ".join(refusals), KdsErrorBody)
        return found
    if op.caller is Caller.SCREEN:
        return {
            303: Answer(
                "Just approved: the same page again, with the device's cookie", media=(), headers=REDIRECT
            ),
            401: Answer("Not paired yet: the pairing code to approve at /devices", media=(HTML,)),
            403: Answer("Refused: the device is paired for other stations", media=(HTML,)),
            429: Answer("Too many screens are waiting for a code", media=(HTML,)),
        }
    return {}


def _joined(own: Answer, door: Answer) -> Answer:
    """One status the route and the door both give: either's description, body and media types."""
    if own.type is not None and door.type is not None and own.type is not door.type:
        raise TypeError(f"{own.description!r} and {door.description!r}: two bodies for one status")
    return Answer(
        f"{own.description}; or {door.description[0].lower()}{door.description[1:]}",
        own.type if own.type is not None else door.type,
        tuple(dict.fromkeys((*own.media, *door.media))),
        tuple(dict.fromkeys((*own.headers, *door.headers))),
    )


def answers_of(op: Operation) -> dict[int, Answer]:
    """The route's own answers and the door's."""
    found = dict(op.answers)
    for status, answer in door_answers(op).items():
        found[status] = _joined(found[status], answer) if status in found else answer
    return found


def _types(ops: list[Operation]) -> list[Any]:
    found: list[Any] = []
    for op in ops:
        candidates = [op.body, *(answer.type for answer in answers_of(op).values())]
        for kind in candidates:
            if kind is not None and not isinstance(kind, dict) and kind not in found:
                found.append(kind)
    return found


def _content(schema: dict[str, Any] | None, media: tuple[str, ...]) -> dict[str, Any]:
    return {m: {"schema": schema if schema is not None else {"type": "string"}} for m in media}


def _operation(op: Operation, schemas: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    unsafe_with_cookie = op.method != "get" and op.caller in (Caller.PERSON, Caller.DEVICE)
    named = {(p.name, p.where) for p in op.params}  # an operation's own word on a path parameter wins
    own = (p for p in _path_params(op.path) if (p.name, p.where) not in named)
    params = [*own, *op.params, *((CSRF,) if unsafe_with_cookie else ())]
    found: dict[str, Any] = {
        "summary": op.summary,
        "description": _who(op),
        "tags": [op.tag],
        "x-caller": op.caller.value,
        "x-role": op.role.value,
        "responses": {},
    }
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
    elif op.caller in SECURITY:
        found["security"] = SECURITY[op.caller]
    if op.body is not None:
        schema = op.body if isinstance(op.body, dict) else schemas[op.body]
        found["requestBody"] = {"required": True, "content": {op.body_media: {"schema": schema}}}
    for status, answer in sorted(answers_of(op).items()):
        response: dict[str, Any] = {"description": answer.description}
        if answer.media:
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
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "Signing in at /login sets it",
                },
                "device": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": DEVICE_COOKIE,
                    "description": "Set on a kitchen screen once an operator approves its pairing code",
                },
            },
        },
        "paths": paths,
    }
