"""A page per flow (``/flows/<id>``), its runbook, and the live health the home page polls.

The page answers what the systems manager asks of one flow: what it is (the catalog's own words:
what moves, from where to where, when, over what, in what format, the promise it keeps), who
owns it and how to reach them, what moved (its transfers, searchable), what is stuck (its dead
letters with their original payload, card numbers masked, and the error), what was raised (its
alerts, with what each channel was told) and its drills; and what an operator can do about it:
replay one dead letter or all of them, run a scheduled flow now, acknowledge an alert, start a
drill.

Every ``POST`` here is an operator's action (:func:`expediter.web.roles.needs`) and, like every
form of the hub, carries the session's CSRF token (checked by :mod:`expediter.web.guard`, which
also puts each action in the audit log, with who did it). A person limited to some locations sees,
on a flow that serves one of them, only their locations' transfers, dead letters and alerts, replays
only those dead letters and runs the flow only for their locations (:mod:`expediter.web.visibility`);
a flow that serves none of their locations is not found.
``/flows/health.json`` is what the home page polls every few seconds to colour each flow without
reloading (a few indexed reads: the ledger's running totals, the open alerts, the dead-letter count).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from expediter.catalog.schema import Catalog, Flow, Trigger
from expediter.engine.hub import Hub, HubServices, RuntimeControl
from expediter.engine.schedule_time import closes_business_date
from expediter.errors import ExpediterError
from expediter.ledger import TransferOutcome
from expediter.model import clock
from expediter.monitor.alerts import AlertState
from expediter.monitor.health import Health, flow_health
from expediter.monitor.ledger_view import statuses_from_ledger
from expediter.monitor.routes import AlertRouter, acknowledge_alert
from expediter.monitor.runbook import alert_kinds_for, runbook_html
from expediter.web.dashboard import _templates, ago, posted_field, replay_seen
from expediter.web.flow_data import (
    TransferFilters,
    first_timezone,
    flow_alert,
    flow_alerts,
    flow_dead_letters,
    flow_drills,
    flow_transfers,
    live_health,
)
from expediter.web.people import actor_of, note_for_audit
from expediter.web.roles import Role, needs
from expediter.web.visibility import (
    Sees,
    alert_visible,
    flow_locations,
    flow_visible,
    located,
    sees_for,
)

POLL_SECONDS = 2
log = structlog.get_logger("expediter.dashboard")
_FLASHES = {
    "replayed": "{n} dead letter(s) back to pending: they go out again in their original order.",
    "ran": "Run finished: {n}.",
    "acknowledged": "Alert {n} acknowledged: no more reminders; it resolves by itself once fixed.",
    "drill": "Drill started: its outcome appears under Drills within a minute.",
}


def who(request: Request) -> str:
    """Who acts: the signed-in person (the door puts them in the request); "the dashboard" for
    routes served without the door."""
    actor = actor_of(request)
    return actor.name if actor is not None else "the dashboard"


class FlowPages:
    def __init__(self, hub: Hub, now: Callable[[], datetime] = clock.now) -> None:
        self.hub = hub
        self.now = now
        self.drills: set[asyncio.Task[Any]] = set()

    @property
    def catalog(self) -> Catalog:
        catalog: Catalog = self.hub.catalog
        return catalog

    def _flow(self, request: Request) -> Flow | None:
        """The flow of the path, when the person asking sees it (one of its locations is theirs)."""
        flow: Flow | None = self.catalog.flow(request.path_params["flow_id"])
        if flow is None or not flow_visible(self.catalog, flow.id, sees_for(request)):
            return None
        return flow

    # -- pages -----------------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        flow = self._flow(request)
        if flow is None:
            return _unknown(request.path_params["flow_id"])
        now, sees = self.now(), sees_for(request)
        locations = located(self.catalog.locations, sees, lambda location: location.id)
        filters = TransferFilters.from_query(request.query_params, self.catalog)
        statuses = await statuses_from_ledger(self.hub.ledger, now)
        status = statuses.get(flow.id)
        html = _templates.get_template("flow.html").render(
            flow=flow,
            source=self.catalog.system(flow.from_),
            destination=self.catalog.system(flow.to),
            health=flow_health(flow, status, now, first_timezone(self.catalog)),
            status=status,
            transfers=await flow_transfers(self.hub, flow, filters, sees),
            filters=filters,
            letters=await flow_dead_letters(self.hub, flow.id, sees),
            alerts=[
                e for e in await flow_alerts(self.hub, flow.id) if alert_visible(self.catalog, e.alert, sees)
            ],
            drills=await flow_drills(self.hub, flow.id),
            kinds=alert_kinds_for(self.catalog, flow),
            channels=AlertRouter(self.catalog, {}).channel_names_of(flow),
            locations=locations,
            run_dates={loc.id: closes_business_date(loc, now) for loc in locations},
            can_run=flow.trigger is Trigger.SCHEDULE and self._runtime() is not None,
            can_act=_operator(request),
            can_drill=_operator(request) and self._drills_everywhere(request, flow),
            flash=self._flash(request),
            outcomes=list(TransferOutcome),
            now=now,
            ago=lambda ts: ago(ts, now),
            AlertState=AlertState,
            Health=Health,
            page="flows",
        )
        return HTMLResponse(html)

    async def runbook(self, request: Request) -> Response:
        flow = self._flow(request)
        if flow is None:
            return _unknown(request.path_params["flow_id"])
        html = _templates.get_template("flow_runbook.html").render(
            flow=flow, body=runbook_html(self.catalog, flow), page="flows"
        )
        return HTMLResponse(html)

    async def health(self, request: Request) -> Response:
        """As the home page shows it: the flows, alerts and dead letters the person sees."""
        state = await live_health(self.hub, self.now(), sees_for(request))
        return Response(msgspec.json.encode(state), media_type="application/json")

    def _flash(self, request: Request) -> str:
        for key, text in _FLASHES.items():
            value = request.query_params.get(key, "")
            if value and (value.isdigit() or value in {str(o) for o in TransferOutcome} | {"started"}):
                return text.format(n=value)
        return ""

    def _drills_everywhere(self, request: Request, flow: Flow) -> bool:
        """A drill breaks the whole flow: only someone who sees every location it serves starts one."""
        actor = actor_of(request)
        return actor is None or actor.sees_all_of(flow_locations(self.catalog, flow))

    # -- actions ---------------------------------------------------------------------------------

    @needs(Role.OPERATOR)
    async def replay(self, request: Request) -> Response:
        """Replay one dead letter (form ``delivery``), or every one of the flow (``delivery=all``)
        that the person sees."""
        flow = self._flow(request)
        if flow is None:
            return _unknown(request.path_params["flow_id"])
        sees, chosen = sees_for(request), posted_field(await request.body(), "delivery")
        if chosen == "all":
            count = await replay_seen(self.hub, flow.id, sees)
            note_for_audit(request, f"{count} dead letter(s) of {flow.id} back to pending")
        elif (
            chosen.isdigit() and (location := await self._dead_letter_of(flow, int(chosen), sees)) is not None
        ):
            count = await self.hub.deliveries.replay([int(chosen)])
            note_for_audit(request, f"dead letter {chosen} of {flow.id} back to pending", location or None)
        else:
            return PlainTextResponse(f"no dead letter {chosen!r} of flow {flow.id}", status_code=400)
        log.info("dead_letters_replayed", flow=flow.id, count=count, by=who(request))
        runtime = self._runtime()
        if runtime is not None:  # the dead-letter alert resolves with the replay
            await runtime.watch_dead_letters()
        return self._back(flow, replayed=count, anchor="dead-letters")

    async def _dead_letter_of(self, flow: Flow, delivery_id: int, sees: Sees) -> str | None:
        """The dead letter's location ("" for none) when it is one of ``flow``'s the person sees."""
        record = await self.hub.deliveries.get(delivery_id)
        if record is None or record.flow_id != flow.id or not sees(record.location_id):
            return None
        location: str = record.location_id or ""
        return location

    @needs(Role.OPERATOR)
    async def run_now(self, request: Request) -> Response:
        """Run a scheduled flow now for one location and business date (default: the last closed)."""
        flow = self._flow(request)
        if flow is None:
            return _unknown(request.path_params["flow_id"])
        body, runtime = await request.body(), self._runtime()
        location = self.catalog.location(posted_field(body, "location"))
        if location is not None and not sees_for(request)(location.id):
            location = None
        if flow.trigger is not Trigger.SCHEDULE or runtime is None or location is None:
            return PlainTextResponse(
                f"flow {flow.id} cannot be run from here: it must be a scheduled flow, and the form must"
                " name one of your locations",
                status_code=400,
            )
        try:
            day = date.fromisoformat(
                posted_field(body, "date") or str(closes_business_date(location, self.now()))
            )
        except ValueError:
            return PlainTextResponse("the business date must be written YYYY-MM-DD", status_code=400)
        note_for_audit(request, f"{flow.id} for {location.id} on {day}", location.id)
        try:
            result = await runtime.run_flow(flow.id, location.id, day)
        except ExpediterError as exc:
            return PlainTextResponse(f"the run could not start: {exc}", status_code=400)
        note_for_audit(request, f"{flow.id} for {location.id} on {day}: {result.outcome}", location.id)
        log.info("flow_run_now", flow=flow.id, location=location.id, day=str(day), by=who(request))
        return self._back(flow, ran=str(result.outcome), anchor="transfers")

    @needs(Role.OPERATOR)
    async def acknowledge(self, request: Request) -> Response:
        """Acknowledge one of the flow's alerts, in the signed-in person's name."""
        flow = self._flow(request)
        if flow is None:
            return _unknown(request.path_params["flow_id"])
        number = str(request.path_params["alert_id"])
        alert_id = int(number) if number.isdigit() else 0
        found = await flow_alert(self.hub, alert_id) if alert_id else None
        if (
            found is None
            or found.flow_id != flow.id
            or not alert_visible(self.catalog, found, sees_for(request))
        ):
            return PlainTextResponse(f"no alert {number!r} of flow {flow.id}", status_code=404)
        alert = await acknowledge_alert(self.hub.storage, alert_id, who(request), self.now())
        if alert is None:
            return PlainTextResponse(f"no alert {alert_id} of flow {flow.id}", status_code=404)
        note_for_audit(
            request, f"alert {alert_id} of {flow.id} ({alert.kind}): {alert.state}", alert.location_id
        )
        runtime = self._runtime()
        if runtime is not None and runtime.watching:  # the channels hear who took it now
            await runtime.alerting.tick(self.now())
        return self._back(flow, acknowledged=alert_id, anchor="alerts")

    @needs(Role.OPERATOR)
    async def drill(self, request: Request) -> Response:
        """Start ``expediter drill`` on this flow inside the hub; its outcome lands under Drills."""
        flow = self._flow(request)
        if flow is None:
            return _unknown(request.path_params["flow_id"])
        if not self._drills_everywhere(request, flow):
            return PlainTextResponse(
                f"a drill breaks {flow.id} for every location it serves; ask someone who sees them all",
                status_code=403,
            )
        runtime = self._runtime()
        if runtime is None:
            return PlainTextResponse("no running hub to drill in", status_code=400)
        note_for_audit(request, f"drill of {flow.id} started")
        task = asyncio.get_running_loop().create_task(runtime.drill(flow.id))
        self.drills.add(task)
        task.add_done_callback(self.drills.discard)
        return self._back(flow, drill="started", anchor="drills")

    def _runtime(self) -> RuntimeControl | None:
        return getattr(self.hub, "services", HubServices()).runtime

    def _back(self, flow: Flow, *, anchor: str, **flash: object) -> Response:
        return RedirectResponse(f"{flow_path(flow.id)}?{urlencode(flash)}#{anchor}", status_code=303)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/flows/health.json", self.health, methods=["GET"]),
            Route("/flows/{flow_id}", self.page, methods=["GET"]),
            Route("/flows/{flow_id}/runbook", self.runbook, methods=["GET"]),
            # the names are the audit log's actions (expediter.access.audit.AuditAction)
            Route("/flows/{flow_id}/replay", self.replay, methods=["POST"], name="replay"),
            Route("/flows/{flow_id}/run", self.run_now, methods=["POST"], name="run"),
            Route("/flows/{flow_id}/drill", self.drill, methods=["POST"], name="drill"),
            Route(
                "/flows/{flow_id}/alerts/{alert_id}/ack",
                self.acknowledge,
                methods=["POST"],
                name="acknowledge",
            ),
        ]


def _operator(request: Request) -> bool:
    actor = actor_of(request)
    return actor is None or actor.role.allows(Role.OPERATOR)


def flow_path(flow_id: str) -> str:
    return f"/flows/{quote(flow_id, safe='')}"


def _unknown(flow_id: str) -> Response:
    return PlainTextResponse(f"no flow {flow_id!r} in the catalog; the home page lists them", status_code=404)


def routes(hub: Hub, now: Callable[[], datetime] = clock.now) -> list[BaseRoute]:
    return FlowPages(hub, now).routes()
