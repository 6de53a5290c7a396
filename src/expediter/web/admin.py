"""``/devices`` (kitchen screens waiting for a code, paired devices) and ``/audit`` (who did what).

An operator approves a screen's code for one of their locations and one or more stations; an
admin revokes a device (the screen asks for a new code at its next connection). The audit page
lists the newest entries, filtered by person and period; someone limited to some locations sees
the entries of those locations.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from expediter.access.audit import AuditEntry
from expediter.catalog.schema import Catalog
from expediter.engine.hub import Hub
from expediter.errors import RejectedInput
from expediter.storage.base import utcnow
from expediter.web import pages
from expediter.web.people import Actor, People, actor_of, note_for_audit, people_of
from expediter.web.roles import Role, needs

EVERY_LOCATION = "*"
STATION = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
PERIODS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


def _fields(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode("utf-8", "replace"))


class AdminPages:
    def __init__(self, hub: Hub, people: People) -> None:
        self.hub = hub
        self.people = people

    @property
    def catalog(self) -> Catalog:
        catalog: Catalog = self.hub.catalog
        return catalog

    def _stations(self) -> list[str]:
        kitchen = self.hub.services.kitchen
        return list(kitchen.stations()) if kitchen is not None else []

    def _me(self, request: Request) -> Actor:
        actor = actor_of(request)
        assert actor is not None, "served behind the guard"
        return actor

    @needs(Role.OPERATOR)
    async def devices(self, request: Request) -> Response:
        me = self._me(request)
        devices = [d for d in await self.people.devices.all() if me.sees(d.location_id)]
        waiting = await self.people.devices.waiting()
        return pages.page(
            "devices.html",
            waiting=waiting,
            devices=devices,
            locations=[loc for loc in self.catalog.locations if me.sees(loc.id)],
            stations=sorted({*self._stations(), *(w.station for w in waiting)}),
            can_revoke=me.role.allows(Role.ADMIN),
            flash=request.query_params.get("done", ""),
            error=request.query_params.get("error", ""),
            page="devices",
        )

    @needs(Role.OPERATOR)
    async def approve(self, request: Request) -> Response:
        me = self._me(request)
        fields = _fields(await request.body())
        location = (fields.get("location") or [""])[0]
        stations = [s for s in fields.get("stations", []) if STATION.match(s)]
        code = (fields.get("code") or [""])[0]
        note_for_audit(request, f"code {code.strip()} for {', '.join(stations)}", location or None)
        if location == EVERY_LOCATION and not me.locations:
            location = ""  # one screen for every location's tickets (one kitchen, several brands)
        elif self.catalog.location(location) is None or not me.sees(location):
            return self._back(error=f"choose one of your locations, not {location!r}")
        try:
            request_ = await self.people.devices.approve(
                code,
                name=(fields.get("name") or [""])[0],
                location_id=location,
                stations=stations,
                approved_by=me.label,
            )
        except RejectedInput as exc:
            return self._back(error=f"{exc.message}: {exc.fix}")
        where = location or "every location"
        note_for_audit(request, f"{request_.name}: {where}, {', '.join(request_.stations)}", location or None)
        return self._back(done=f"{request_.shown_code} approved: the screen shows its station within seconds")

    @needs(Role.ADMIN)
    async def revoke(self, request: Request) -> Response:
        me = self._me(request)
        raw = (_fields(await request.body()).get("device") or [""])[0]
        device = await self.people.devices.get(int(raw)) if raw.isdigit() else None
        if device is None or not me.sees(device.location_id):
            return self._back(error=f"no paired device {raw!r} at your locations")
        note_for_audit(
            request, f"{device.name}: {device.location_id}, {', '.join(device.stations)}", device.location_id
        )
        try:
            await self.people.devices.revoke(device.id, me.label)
        except RejectedInput as exc:
            return self._back(error=exc.message)
        return self._back(done=f"{device.name} revoked: it must be paired again")

    def _back(self, *, done: str = "", error: str = "") -> Response:
        query = urlencode({"done": done} if done else {"error": error})
        return RedirectResponse(f"/devices?{query}", status_code=303)

    @needs(Role.ADMIN)
    async def audit(self, request: Request) -> Response:
        me = self._me(request)
        period = request.query_params.get("since", "24h")
        person = request.query_params.get("user") or None
        since = utcnow() - PERIODS.get(period, PERIODS["24h"])
        entries = [e for e in await self.people.audit.entries(since=since, actor=person) if _visible(me, e)]
        return pages.page(
            "audit.html",
            entries=entries,
            periods=list(PERIODS),
            chosen_period=period if period in PERIODS else "24h",
            chosen_user=person or "",
            people=sorted({e.actor for e in entries}),
            now=utcnow(),
            page="audit",
        )


def _visible(me: Actor, entry: AuditEntry) -> bool:
    return me.sees(entry.location_id) or entry.actor == me.label


def when(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC")


pages.templates.globals["when"] = when


def routes(hub: Hub) -> list[BaseRoute]:
    admin = AdminPages(hub, people_of(hub))
    return [
        Route("/devices", admin.devices, methods=["GET"]),
        Route("/devices/approve", admin.approve, methods=["POST"], name="device_paired"),
        Route("/devices/revoke", admin.revoke, methods=["POST"], name="device_revoked"),
        Route("/audit", admin.audit, methods=["GET"]),
    ]
