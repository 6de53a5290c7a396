"""The dashboard: every flow's health at a glance, the flow diagram, and Prometheus metrics.

``/`` answers the systems manager's questions (is every connection healthy, when did data last move,
who owns a broken flow, what does it break) and puts what needs a hand first: rejected webhook
signatures, open alerts, dead letters with a Replay button, the night's journal, the last transfers.
``/transfers`` filters the ledger; ``/printer`` shows what the (virtual) kitchen printer printed;
``/diagram`` draws the flows; ``/metrics`` is Prometheus' view of the whole hub
(:mod:`expediter.monitor.metrics`).

Flow health is read in :func:`read_hub_state`, the other panels in
:func:`expediter.web.dashboard_data.read_panels`: the two adapters to wire when the engine changes.

``POST /dashboard/replay`` is the page's only write: it needs an operator, and, like every form of
the hub, the session's CSRF token (checked by :mod:`expediter.web.guard`). A person limited to some
locations sees, and replays, only their locations' flows and dead letters
(:mod:`expediter.web.visibility`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import msgspec
import structlog
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from expediter.catalog.schema import Catalog, Flow
from expediter.edge.group import EdgeView
from expediter.engine.hub import Hub, HubServices
from expediter.ledger import TransferOutcome
from expediter.model import clock
from expediter.monitor.alerts import Alert
from expediter.monitor.diagram import mermaid
from expediter.monitor.health import FlowStatus, Health, flow_health
from expediter.monitor.ledger_view import statuses_from_ledger
from expediter.monitor.metrics import exposition
from expediter.monitor.processes import HubProcess, hub_processes
from expediter.monitor.svg import render_svg
from expediter.web.dashboard_data import (
    TRANSFERS_PAGE_LIMIT,
    JournalCache,
    duration_text,
    outcome_from,
    printed_tickets,
    read_panels,
    recent_transfers,
    shorten,
    size_text,
    virtual_printer,
)
from expediter.web.pages import GLOBALS
from expediter.web.people import note_for_audit
from expediter.web.roles import Caller, Role, needs, open_to
from expediter.web.visibility import Sees, alert_visible, everything, flow_visible, sees_for

WEB = Path(__file__).parent
REFRESH_SECONDS = 15
ASSETS = {
    "dashboard.css": "text/css",
    "dashboard.js": "text/javascript",
    "imports.js": "text/javascript",
    "live.js": "text/javascript",
}
log = structlog.get_logger("expediter.dashboard")
_templates = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape())
_templates.globals.update(shorten=shorten, duration=duration_text, size=size_text, Outcome=TransferOutcome)
_templates.globals.update(GLOBALS)  # csrf_field() in every form, signed_in() in the header


class HubState(msgspec.Struct, kw_only=True):
    """What the dashboard reads from the engine at one moment."""

    statuses: dict[str, FlowStatus] = {}
    alerts: list[Alert] = []
    dead_letters: int = 0
    ledger_available: bool = False
    processes: list[HubProcess] = []
    """The ``expediter serve`` processes sharing the database, by their heartbeats."""


class FlowRow(msgspec.Struct, kw_only=True):
    flow: Flow
    health: Health
    status: FlowStatus | None


async def read_hub_state(hub: Hub, now: datetime) -> HubState:
    """The single adapter between the engine and the dashboard (duck-typed on purpose).

    ``hub.ledger`` gives flow statuses, ``hub.deliveries.dead_letters()`` the dead-letter count and
    ``hub.alerting.open_alerts()`` the open alerts (as every hub process sees them); each part is
    optional so the page renders for a hub that is only partly wired.
    """
    state = HubState()
    ledger = getattr(hub, "ledger", None)
    if ledger is not None:
        state.statuses = await statuses_from_ledger(ledger, now)
        state.ledger_available = True
    deliveries = getattr(hub, "deliveries", None)
    if deliveries is not None and hasattr(deliveries, "dead_letters"):
        state.dead_letters = len(await deliveries.dead_letters())
    alerting = getattr(hub, "alerting", None)
    if alerting is not None:
        state.alerts = list(await alerting.open_alerts())
    storage, catalog = getattr(hub, "storage", None), getattr(hub, "catalog", None)
    if storage is not None and catalog is not None:
        beat = catalog.hub.takeover_seconds
        state.processes = await storage.read(lambda tx: hub_processes(tx, now, beat))
    return state


def flow_rows(catalog: Catalog, state: HubState, now: datetime, sees: Sees = everything) -> list[FlowRow]:
    timezone = catalog.locations[0].timezone if catalog.locations else "UTC"
    rows = []
    for flow in catalog.flows:
        if not flow_visible(catalog, flow.id, sees):
            continue
        status = state.statuses.get(flow.id)
        rows.append(FlowRow(flow=flow, health=flow_health(flow, status, now, timezone), status=status))
    return rows


async def edge_views(hub: Hub, sees: Sees) -> list[EdgeView]:
    """The group's restaurant edges (``[group_edges]``) this person may see; none without."""
    board = getattr(hub, "services", HubServices()).extra.get("edge_board")
    if board is None:
        return []
    try:
        views = (await board.views()).edges
    except Exception:  # the group's NATS server not answering: the rest of the page still shows
        log.warning("the edges' states could not be read", exc_info=True)
        return []
    return [view for view in views if sees(view.location)]


def ago(ts: datetime | None, now: datetime) -> str:
    """``3 min ago`` — how people read freshness on a wall screen."""
    if ts is None:
        return "—"
    seconds = int((now - ts).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def posted_field(body: bytes, name: str) -> str:
    """One field of an ``application/x-www-form-urlencoded`` body (Starlette's own form parser
    needs python-multipart, which the hub does not depend on)."""
    values = parse_qs(body.decode("utf-8", "replace")).get(name, [""])
    return values[0]


def replay_message(count: int, flow_id: str) -> str:
    noun = "delivery" if count == 1 else "deliveries"
    return f"{count} {noun} of {flow_id} back to pending"


async def replay_seen(hub: Hub, flow_id: str, sees: Sees) -> int:
    """Every dead letter of ``flow_id`` the person sees back to pending; how many moved."""
    if sees is everything:
        count: int = await hub.deliveries.replay_flow(flow_id)
        return count
    dead = await hub.deliveries.dead_letters(flow_id=flow_id, limit=100_000)
    moved: int = await hub.deliveries.replay([d.id for d in dead if sees(d.location_id)])
    return moved


class Dashboard:
    def __init__(self, hub: Hub, clock: Callable[[], datetime] = clock.now) -> None:
        """``clock`` decides which business date is "last night" (tests pin it)."""
        self.hub = hub
        self.clock = clock
        self.journals = JournalCache()

    @property
    def catalog(self) -> Catalog:
        catalog: Catalog = self.hub.catalog
        return catalog

    def _known(self, flow_id: str) -> bool:
        """A catalog flow, or a source's processing step (``<system>#process``), which has dead
        letters of its own when the product's API is down."""
        system, _, step = flow_id.partition("#")
        if step:
            return step == "process" and self.catalog.system(system) is not None
        return self.catalog.flow(flow_id) is not None

    async def index(self, request: Request) -> Response:
        now, sees = self.clock(), sees_for(request)
        state = await read_hub_state(self.hub, now)
        panels = await read_panels(self.hub, self.journals, now, sees)
        if panels.dead_letters or sees is not everything:  # the tile and the list count the same read
            state.dead_letters = sum(group.count for group in panels.dead_letters)
        state.alerts = [a for a in state.alerts if alert_visible(self.catalog, a, sees)]
        rows = flow_rows(self.catalog, state, now, sees)
        counts = {h: sum(r.health == h for r in rows) for h in Health}
        html = _templates.get_template("dashboard.html").render(
            rows=rows,
            edges=await edge_views(self.hub, sees),
            location_names={location.id: location.name for location in self.catalog.locations},
            counts=counts,
            state=state,
            panels=panels,
            flash=self._flash(request),
            now=now,
            ago=lambda ts: ago(ts, now),
            refresh=REFRESH_SECONDS,
            refresh_url="/",
            live=True,
            Health=Health,
            page="flows",
        )
        return HTMLResponse(html)

    def _flash(self, request: Request) -> str:
        """The message after a replay, carried in the redirect's query (no session needed)."""
        flow_id = request.query_params.get("flow", "")
        replayed = request.query_params.get("replayed", "")
        if not replayed.isdigit() or not self._known(flow_id):
            return ""
        return replay_message(int(replayed), flow_id)

    async def transfers(self, request: Request) -> Response:
        now, sees = self.clock(), sees_for(request)
        flow_id = request.query_params.get("flow") or None
        outcome = outcome_from(request.query_params.get("outcome"))
        transfers = await recent_transfers(
            self.hub, flow_id=flow_id, outcome=outcome, limit=TRANSFERS_PAGE_LIMIT, sees=sees
        )
        html = _templates.get_template("dashboard_transfers.html").render(
            transfers=transfers,
            flows=[f.id for f in self.catalog.flows if flow_visible(self.catalog, f.id, sees)],
            chosen_flow=flow_id or "",
            chosen_outcome=str(outcome or ""),
            limit=TRANSFERS_PAGE_LIMIT,
            ledger_available=getattr(self.hub, "ledger", None) is not None,
            now=now,
            ago=lambda ts: ago(ts, now),
            page="transfers",
        )
        return HTMLResponse(html)

    async def printer(self, request: Request) -> Response:
        printer = virtual_printer(self.hub)
        if printer is None:
            return PlainTextResponse("no virtual printer runs in this hub", status_code=404)
        now = self.clock()
        html = _templates.get_template("dashboard_printer.html").render(
            tickets=printed_tickets(printer),
            total=len(printer.tickets),
            address=f"{printer.host}:{printer.port}",
            ago=lambda ts: ago(ts, now),
            refresh=REFRESH_SECONDS,
            page="printer",
        )
        return HTMLResponse(html)

    @needs(Role.OPERATOR)
    async def replay(self, request: Request) -> Response:
        """The Replay button: every dead letter of one flow back to pending (those of the person's
        own locations when they are limited to some), then back to ``/``."""
        flow_id, sees = posted_field(await request.body(), "flow"), sees_for(request)
        if not self._known(flow_id) or not flow_visible(self.catalog, flow_id, sees):
            return PlainTextResponse(f"unknown flow {flow_id!r}", status_code=400)
        count = await self._replay(flow_id, sees)
        note_for_audit(request, replay_message(count, flow_id))
        log.info("dead_letters_replayed", flow=flow_id, count=count)
        runtime = getattr(self.hub, "services", HubServices()).runtime
        if runtime is not None:  # the dead-letter alert resolves with the replay, not a watch later
            await runtime.watch_dead_letters()
        query = urlencode({"replayed": count, "flow": flow_id})
        return RedirectResponse(f"/?{query}#dead-letter-list", status_code=303)

    async def _replay(self, flow_id: str, sees: Sees) -> int:
        return await replay_seen(self.hub, flow_id, sees)

    async def diagram(self, request: Request) -> Response:
        now = self.clock()
        state = await read_hub_state(self.hub, now)
        health = {r.flow.id: r.health for r in flow_rows(self.catalog, state, now)}
        html = _templates.get_template("dashboard_diagram.html").render(
            svg=render_svg(self.catalog, health),
            mermaid=mermaid(self.catalog, health),
            refresh=REFRESH_SECONDS * 4,
            page="diagram",
        )
        return HTMLResponse(html)

    async def diagram_svg(self, request: Request) -> Response:
        now = self.clock()
        state = await read_hub_state(self.hub, now)
        health = {r.flow.id: r.health for r in flow_rows(self.catalog, state, now)}
        return Response(render_svg(self.catalog, health), media_type="image/svg+xml")

    @open_to(Caller.ANYONE)  # Prometheus scrapes it; it holds counts, never payloads
    async def metrics_page(self, request: Request) -> Response:
        body, content_type = await exposition(self.hub)
        return Response(body, media_type=content_type)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/transfers", self.transfers, methods=["GET"]),
            Route("/printer", self.printer, methods=["GET"]),
            Route("/dashboard/replay", self.replay, methods=["POST"], name="replay"),
            Route("/diagram", self.diagram, methods=["GET"]),
            Route("/diagram.svg", self.diagram_svg, methods=["GET"]),
            Route("/metrics", self.metrics_page, methods=["GET"]),
            Route("/static/dashboard/{name}", self.asset, methods=["GET"]),
        ]

    @open_to(Caller.ANYONE)
    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(WEB / "static" / name, media_type=ASSETS[name])


def routes(hub: Hub, clock: Callable[[], datetime] = clock.now) -> list[BaseRoute]:
    return Dashboard(hub, clock).routes()
