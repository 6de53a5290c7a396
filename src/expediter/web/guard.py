"""The one door every route of the hub's web app goes through (:func:`protect`, applied by
:func:`expediter.web.app.create_app` to every route it collects).

Each route says who calls it (:func:`expediter.web.roles.open_to`) and the least role it needs
(:func:`expediter.web.roles.needs`); here both are enforced, for every route alike:

- a **person** route needs a live session (cookie); without one a page redirects to ``/login``
  (and, while the hub has no user yet, says how to add the first one), anything else is a 401;
- a **device** route needs a paired kitchen device's cookie, for a station it was paired for; a
  **screen** without one shows its pairing code instead (:mod:`expediter.web.pairing`);
- the role: the person's (a device acts as an operator of its stations and location);
- every unsafe method (POST, PUT, PATCH, DELETE) must carry the session's or device's CSRF token
  (form field ``csrf`` or header ``X-CSRF-Token``), and a browser's ``Origin``, when sent, must be
  this very host: another site's page cannot act for the person looking at it;
- every unsafe request of a person or device, allowed or refused, goes to the audit log. Its
  action is the route's name when that is an :class:`~expediter.access.audit.AuditAction`
  (``replay``, ``bump``, ``86`` ...), else ``other`` with the path as the target; the endpoint may
  add a detail and a location with :func:`expediter.web.people.note_for_audit`.

Routes for machines (API tokens, webhook signatures) check their own credential, and routes for
anyone (sign-in, health, assets) need none; neither reads cookies, so neither needs CSRF tokens.
The ``Host`` allow-list is checked before routing, for every request, in
:class:`expediter.web.app.HubApp`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from expediter.access.audit import ActorKind, AuditAction, Outcome
from expediter.access.credentials import same
from expediter.access.roles import Role
from expediter.web import pages
from expediter.web.pairing import screen_to_pair
from expediter.web.people import (
    ACTOR_KEY,
    AUDIT_KEY,
    DEVICE_COOKIE,
    DEVICE_COOKIE_SECONDS,
    SESSION_COOKIE,
    Actor,
    People,
    address_of,
    set_cookie,
)
from expediter.web.roles import Caller, caller_of, role_needed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
_ACTIONS = frozenset(action.value for action in AuditAction)
Endpoint = Callable[[Request], Awaitable[Response]]
log = structlog.get_logger("expediter.guard")


class Refusal(Exception):
    def __init__(self, status: int, error: str, fix: str) -> None:
        super().__init__(error)
        self.status, self.error, self.fix = status, error, fix


def protect(routes: list[BaseRoute], people: People) -> list[BaseRoute]:
    """``routes`` with every endpoint behind the door. Only plain routes are served: a mount or a
    WebSocket route would slip past the door, so one is refused here rather than served open."""
    guarded: list[BaseRoute] = []
    for route in routes:
        if type(route) is not Route:
            raise TypeError(f"{route!r}: only starlette.routing.Route can be protected")
        methods = sorted((route.methods or {"GET"}) - {"HEAD"})
        guarded.append(
            Route(route.path, door(route.endpoint, route.name, people), methods=methods, name=route.name)
        )
    return guarded


def door(endpoint: Endpoint, name: str, people: People) -> Endpoint:
    caller, role = caller_of(endpoint), role_needed(endpoint)
    if caller in (Caller.ANYONE, Caller.MACHINE):
        return endpoint
    action = AuditAction(name) if name in _ACTIONS else AuditAction.OTHER

    async def guarded(request: Request) -> Response:
        try:
            if caller is Caller.PERSON:
                actor: Actor | None = await _person(request, people)
            else:
                actor = await _device(request, people, screen=caller is Caller.SCREEN)
        except _Answer as answer:
            return answer.response
        if actor is None:
            return await screen_to_pair(request, people)
        try:
            _check(request, actor, role)
            if request.method not in SAFE_METHODS:
                await _check_csrf(request, actor)
        except Refusal as refusal:
            if request.method not in SAFE_METHODS:
                await _audit(request, people, actor, action, refusal.status, refusal.error)
            return _refused(request, refusal)
        response = await _answer(request, endpoint, actor)
        if request.method not in SAFE_METHODS:
            await _audit(request, people, actor, action, response.status_code, "")
        if caller is Caller.SCREEN:
            set_cookie(
                response,
                DEVICE_COOKIE,
                request.cookies[DEVICE_COOKIE],
                secure=people.secure_cookies,
                max_age=DEVICE_COOKIE_SECONDS,
            )
        return response

    guarded.__name__ = getattr(endpoint, "__name__", name)
    return guarded


async def _answer(request: Request, endpoint: Endpoint, actor: Actor) -> Response:
    request.scope[ACTOR_KEY] = actor
    token = pages.CURRENT.set(actor)
    try:
        return await endpoint(request)
    finally:
        pages.CURRENT.reset(token)


class _Answer(Exception):
    """A response given instead of the endpoint's (a redirect to sign in, the first-run page)."""

    def __init__(self, response: Response) -> None:
        self.response = response


# -- who is asking -------------------------------------------------------------------------------------


async def _person(request: Request, people: People) -> Actor:
    session = await people.sessions.find(request.cookies.get(SESSION_COOKIE, ""))
    if session is not None:
        user = session.user
        return Actor(
            kind=ActorKind.USER, name=user.name, role=user.role, locations=user.locations, csrf=session.csrf
        )
    if await people.users.count() == 0:
        raise _Answer(pages.page("first_run.html", 503))
    if request.method in SAFE_METHODS and not _is_api(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise _Answer(RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303))
    raise _Answer(_refused(request, Refusal(401, "sign in first", "sign in at /login, then try again")))


async def _device(request: Request, people: People, *, screen: bool) -> Actor | None:
    """The paired device behind the cookie; ``None`` for a ``screen`` page that has none (it shows
    a pairing code instead); a 401 for the kitchen's feed and API without one."""
    device = await people.devices.find(request.cookies.get(DEVICE_COOKIE, ""))
    if device is None:
        if screen:
            return None
        raise _Answer(
            _refused(
                request,
                Refusal(
                    401,
                    "this screen is not paired with the hub",
                    "open the station's screen (/kds/<station>) on this device and have an operator"
                    " approve the code it shows at /devices",
                ),
            )
        )
    await people.devices.touch(device, address_of(request))
    return Actor(
        kind=ActorKind.DEVICE,
        name=device.name,
        role=Role.OPERATOR,
        locations=(device.location_id,) if device.location_id else (),
        stations=device.stations,
        csrf=device.csrf,
        device_id=device.id,
    )


# -- what they may do ----------------------------------------------------------------------------------


def _check(request: Request, actor: Actor, needed: Role) -> None:
    if not actor.role.allows(needed):
        raise Refusal(
            403,
            f"{actor.name} is a {actor.role.value}; this needs an {needed.value}"
            if needed is not Role.VIEWER
            else "not allowed",
            "ask an admin for that role (`expediter users add` / `users remove`), or ask someone who has it",
        )
    station = request.path_params.get("station")
    if actor.kind is ActorKind.DEVICE and station is not None and str(station) not in actor.stations:
        paired = ", ".join(actor.stations) or "no station"
        raise Refusal(
            403,
            f"this screen is paired for {paired}, not {station}",
            "open one of its own stations, or have an operator pair it again at /devices",
        )


async def _check_csrf(request: Request, actor: Actor) -> None:
    origin = request.headers.get("origin")
    if origin is not None and (
        origin == "null" or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()
    ):
        raise Refusal(403, "refused: this came from a page of another site", "use the hub's own pages")
    given = request.headers.get(CSRF_HEADER) or await _form_token(request)
    if not given or not same(given, actor.csrf):
        raise Refusal(
            403,
            "refused: the form's security token is missing or out of date",
            "reload the page and try again (a form from before signing in again no longer counts)",
        )


async def _form_token(request: Request) -> str:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return ""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    return fields.get(pages.CSRF_FIELD, [""])[0]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _refused(request: Request, refusal: Refusal) -> Response:
    if _is_api(request) or request.url.path.endswith("/events"):
        return JSONResponse({"error": refusal.error, "fix": refusal.fix}, status_code=refusal.status)
    return pages.page("refused.html", refusal.status, error=refusal.error, fix=refusal.fix)


# -- the record ----------------------------------------------------------------------------------------


def _outcome(status: int) -> Outcome:
    if status < 400:
        return Outcome.DONE
    return Outcome.REFUSED if status in (401, 403) else Outcome.FAILED


async def _audit(
    request: Request, people: People, actor: Actor, action: AuditAction, status: int, why: str
) -> None:
    detail, location = request.scope.get(AUDIT_KEY, ("", None))
    if location is None and len(actor.locations) == 1:
        location = actor.locations[0]
    target = request.url.path if action is AuditAction.OTHER else _target(request)
    try:
        await people.audit.record(
            actor.label,
            actor.kind,
            action,
            _outcome(status),
            target=target,
            detail=why or detail or f"HTTP {status}",
            address=address_of(request),
            location_id=location,
        )
    except Exception:  # the action is done; a failed record must not turn it into an error page
        log.exception("audit_record_failed", action=action.value, actor=actor.label)


def _target(request: Request) -> str:
    params: dict[str, Any] = dict(request.path_params)
    return msgspec.json.encode(params).decode() if params else request.url.path
