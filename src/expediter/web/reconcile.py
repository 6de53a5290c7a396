"""``/reconciliation``: a calendar per location with a green, red or amber day per check;
``/reconciliation/{location}/{date}``: that day's checks and the records that differ, with a
**Reconcile now** button; ``/trace?order=ID``: one order through every system.

The pages read the stored results (table ``reconciliations``); the button runs the day's checks
through the same code as ``expediter reconcile`` (operator role; its form carries the session's
CSRF token, and the audit log keeps who reconciled which day). A person limited to some locations
sees only those locations' calendars, days and orders: another location's is not found (404).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from expediter.engine.hub import Hub
from expediter.engine.reconcile import Reconciler
from expediter.engine.trace import Tracer, no_such_order
from expediter.errors import RejectedInput
from expediter.model import clock
from expediter.model.bounds import FUTURE, PAST
from expediter.monitor.reconcile.common import amount_text
from expediter.monitor.reconcile.model import CHECK_TITLES, CheckName, CheckResult, CheckState
from expediter.monitor.reconcile.store import load_results
from expediter.web.dashboard import _templates, posted_field
from expediter.web.people import note_for_audit, sees
from expediter.web.roles import Role, needs

REFRESH_SECONDS = 60
NO_LOCATION = "no such location in the catalog"


class Day(msgspec.Struct, kw_only=True):
    day: date
    in_month: bool
    checks: list[CheckResult] = []

    @property
    def state(self) -> CheckState | None:
        """Red if any check differs, amber if any waits, green when every one agrees."""
        states = {c.state for c in self.checks}
        for state in (CheckState.DIFFER, CheckState.PENDING, CheckState.AGREE):
            if state in states:
                return state
        return None


BAD_DATE = "the date is YYYY-MM-DD, at most ten years back and a year ahead"


def month_of(text: str | None, today: date) -> date:
    """The first day of ``YYYY-MM`` (this month when missing, unreadable or out of range)."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        return today.replace(day=1)
    return first if today - PAST <= first <= today + FUTURE else today.replace(day=1)


def business_day(text: str, today: date) -> date:
    """A business date a page asks about, ``YYYY-MM-DD`` within the hub's plausible range."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise RejectedInput(BAD_DATE) from None
    if not today - PAST <= day <= today + FUTURE:
        raise RejectedInput(BAD_DATE)
    return day


def weeks(first: date, results: list[CheckResult]) -> list[list[Day]]:
    """The month's weeks (Monday first), each day with its stored checks."""
    by_day: dict[date, list[CheckResult]] = {}
    for result in results:
        by_day.setdefault(result.business_date, []).append(result)
    grid = calendar.Calendar().monthdatescalendar(first.year, first.month)
    return [
        [Day(day=d, in_month=d.month == first.month, checks=by_day.get(d, [])) for d in week] for week in grid
    ]


def values_text(result: CheckResult, values: dict[str, int]) -> str:
    return ", ".join(f"{name} {amount_text(v, result.unit, result.currency)}" for name, v in values.items())


class ReconciliationPages:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def _location(self, request: Request, location_id: str | None) -> Any:
        """The location asked for (none: the first the person sees); ``None`` when the catalog
        has no such location or the person does not see it."""
        seen = self._locations(request)
        if not location_id:
            return seen[0] if seen else None
        return next((location for location in seen if location.id == location_id), None)

    def _locations(self, request: Request) -> list[Any]:
        return [location for location in self.hub.catalog.locations if sees(request, location.id)]

    async def calendar(self, request: Request) -> Response:
        location = self._location(request, request.query_params.get("location"))
        if location is None:
            return PlainTextResponse(NO_LOCATION, status_code=404)
        first = month_of(request.query_params.get("month"), location.business_date_for(clock.now()))
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        results = await load_results(
            self.hub.storage, first - timedelta(days=7), last + timedelta(days=7), [location.id]
        )
        html = _templates.get_template("reconciliation.html").render(
            location=location,
            locations=self._locations(request),
            month=first,
            previous=(first - timedelta(days=1)).replace(day=1),
            following=last + timedelta(days=1),
            weeks=weeks(first, results),
            titles=CHECK_TITLES,
            checks=list(CheckName),
            refresh=REFRESH_SECONDS,
            page="reconciliation",
        )
        return HTMLResponse(html)

    async def day(self, request: Request) -> Response:
        location = self._location(request, request.path_params["location"])
        try:
            day = business_day(request.path_params["day"], clock.now().date())
        except RejectedInput as exc:
            return PlainTextResponse(str(exc), status_code=400)
        if location is None:
            return PlainTextResponse(NO_LOCATION, status_code=404)
        results = await load_results(self.hub.storage, day, day, [location.id])
        html = _templates.get_template("reconciliation_day.html").render(
            location=location,
            day=day,
            results=results,
            titles=CHECK_TITLES,
            values_text=values_text,
            amount_text=amount_text,
            flash=request.query_params.get("done", ""),
            page="reconciliation",
        )
        return HTMLResponse(html)

    @needs(Role.OPERATOR)
    async def run(self, request: Request) -> Response:
        """Reconcile one location-day now (the day page's button)."""
        body = await request.body()
        location = self._location(request, posted_field(body, "location"))
        try:
            day = business_day(posted_field(body, "day"), clock.now().date())
        except RejectedInput as exc:
            return PlainTextResponse(str(exc), status_code=400)
        if location is None:
            return PlainTextResponse(NO_LOCATION, status_code=404)
        results = await Reconciler(self.hub).reconcile([location.id], day, day)
        differing = sum(r.state is CheckState.DIFFER for r in results)
        done = f"reconciled: {len(results)} checks, {differing} differ"
        note_for_audit(request, f"{location.id} {day}: {done}", location.id)
        return RedirectResponse(f"/reconciliation/{location.id}/{day}?done={done}", status_code=303)

    async def trace(self, request: Request) -> Response:
        order_id = request.query_params.get("order", "").strip()
        journey, error = None, ""
        if order_id:
            try:
                journey = await Tracer(self.hub).trace(order_id)
                if not sees(request, journey.location_id):  # as if it were not there
                    journey = None
                    raise no_such_order(order_id)
            except RejectedInput as exc:
                error = str(exc)
        html = _templates.get_template("trace.html").render(
            order_id=order_id, journey=journey, error=error, page="trace"
        )
        return HTMLResponse(html, status_code=404 if error else 200)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/reconciliation", self.calendar, methods=["GET"]),
            Route("/reconciliation/run", self.run, methods=["POST"], name="reconcile"),
            Route("/reconciliation/{location}/{day}", self.day, methods=["GET"]),
            Route("/trace", self.trace, methods=["GET"]),
        ]


def routes(hub: Hub) -> list[BaseRoute]:
    return ReconciliationPages(hub).routes()
