"""The dashboard: every flow's health at a glance, the flow diagram, and Prometheus metrics.

``/`` answers the systems manager's questions (is every connection healthy, when did data last move,
who owns a broken flow, what does it break); ``/diagram`` draws the flows; ``/metrics`` exposes the
counters the engine increments. Everything the page needs from the engine is read in
:func:`read_hub_state`, the one adapter to wire when the engine changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import structlog
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from expediter.catalog.diagram import mermaid
from expediter.catalog.schema import Catalog, Flow
from expediter.catalog.svg import render_svg
from expediter.monitor.alerts import Alert
from expediter.monitor.health import FlowStatus, Health, flow_health
from expediter.monitor.ledger_view import statuses_from_ledger
from expediter.monitor.metrics import METRICS, Metrics

WEB = Path(__file__).parent
REFRESH_SECONDS = 15
ASSETS = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
log = structlog.get_logger("expediter.dashboard")
_templates = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape())


class HubState(msgspec.Struct, kw_only=True):
    """What the dashboard reads from the engine at one moment."""

    statuses: dict[str, FlowStatus] = {}
    alerts: list[Alert] = []
    dead_letters: int = 0
    ledger_available: bool = False


class FlowRow(msgspec.Struct, kw_only=True):
    flow: Flow
    health: Health
    status: FlowStatus | None


async def read_hub_state(hub: Any, now: datetime) -> HubState:
    """The single adapter between the engine and the dashboard (duck-typed on purpose).

    ``hub.ledger`` gives flow statuses, ``hub.deliveries.dead_letters()`` the dead-letter count and
    ``hub.alerting.book.firing()`` the open alerts; each part is optional so the page renders for a
    hub that is only partly wired.
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
        state.alerts = list(alerting.book.firing())
    return state


def flow_rows(catalog: Catalog, state: HubState, now: datetime) -> list[FlowRow]:
    timezone = catalog.locations[0].timezone if catalog.locations else "UTC"
    rows = []
    for flow in catalog.flows:
        status = state.statuses.get(flow.id)
        rows.append(FlowRow(flow=flow, health=flow_health(flow, status, now, timezone), status=status))
    return rows


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


class Dashboard:
    def __init__(self, hub: Any) -> None:
        self.hub = hub

    @property
    def catalog(self) -> Catalog:
        catalog: Catalog = self.hub.catalog
        return catalog

    @property
    def metrics(self) -> Metrics:
        metrics: Metrics = getattr(self.hub, "metrics", None) or METRICS
        return metrics

    async def index(self, request: Request) -> Response:
        now = datetime.now(UTC)
        state = await read_hub_state(self.hub, now)
        rows = flow_rows(self.catalog, state, now)
        counts = {h: sum(r.health == h for r in rows) for h in Health}
        html = _templates.get_template("dashboard.html").render(
            rows=rows,
            counts=counts,
            state=state,
            now=now,
            ago=lambda ts: ago(ts, now),
            refresh=REFRESH_SECONDS,
            Health=Health,
            page="flows",
        )
        return HTMLResponse(html)

    async def diagram(self, request: Request) -> Response:
        now = datetime.now(UTC)
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
        now = datetime.now(UTC)
        state = await read_hub_state(self.hub, now)
        health = {r.flow.id: r.health for r in flow_rows(self.catalog, state, now)}
        return Response(render_svg(self.catalog, health), media_type="image/svg+xml")

    async def metrics_page(self, request: Request) -> Response:
        body, content_type = self.metrics.exposition()
        return Response(body, media_type=content_type)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(WEB / "static" / name, media_type=ASSETS[name])


def routes(hub: Any) -> list[BaseRoute]:
    dashboard = Dashboard(hub)
    return [
        Route("/", dashboard.index, methods=["GET"]),
        Route("/diagram", dashboard.diagram, methods=["GET"]),
        Route("/diagram.svg", dashboard.diagram_svg, methods=["GET"]),
        Route("/metrics", dashboard.metrics_page, methods=["GET"]),
        Route("/static/dashboard/{name}", dashboard.asset, methods=["GET"]),
    ]
