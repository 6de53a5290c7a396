"""Who is asking, as the web layer sees it: an :class:`Actor` (a signed-in user or a paired kitchen
device), the stores of people and devices on the hub's database (:class:`People`), the cookies
that carry their credentials, and the host names the hub answers to.

Cookies are ``HttpOnly`` and ``SameSite=Lax`` (another site's page cannot read them, and a
browser does not send them with another site's form), and ``Secure`` when the hub is reached
over https (``hub.secure_cookies``, by default true when ``hub.public_url`` is an https URL).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from expediter.access.audit import ActorKind, AuditLog
from expediter.access.devices import Devices
from expediter.access.roles import Role
from expediter.access.sessions import Sessions
from expediter.access.users import Users
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub

SESSION_COOKIE = "expediter_session"
DEVICE_COOKIE = "expediter_device"
PAIRING_COOKIE = "expediter_pairing"
SIGNIN_COOKIE = "expediter_signin"
DEVICE_COOKIE_SECONDS = 400 * 24 * 3600
"""The longest a browser keeps a cookie (400 days); renewed each time the screen loads."""
ACTOR_KEY = "expediter.actor"
AUDIT_KEY = "expediter.audit"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
PEOPLE_SERVICE = "people"


class Actor(msgspec.Struct, kw_only=True, frozen=True):
    """A signed-in person or a paired kitchen device, with what they may see and do."""

    kind: ActorKind
    name: str
    role: Role
    locations: tuple[str, ...] = ()
    """Empty: every location."""
    stations: tuple[str, ...] = ()
    """A device's stations (a person is not limited to stations)."""
    csrf: str = ""
    device_id: int | None = None

    def sees(self, location_id: str | None) -> bool:
        """Whether this actor may see (and, with the role, act on) ``location_id``; what belongs
        to no one location is for those who see every location."""
        if not self.locations:
            return True
        return location_id is not None and location_id in self.locations

    def sees_all_of(self, locations: list[str] | tuple[str, ...]) -> bool:
        """For something that serves ``locations`` (empty: every location): only an actor who
        sees all of them may act on it."""
        if not self.locations:
            return True
        return bool(locations) and set(locations) <= set(self.locations)

    @property
    def label(self) -> str:
        """How the audit log names the actor: ``alice``, ``device 3 (Grill tablet)``."""
        return self.name if self.kind is ActorKind.USER else f"device {self.device_id} ({self.name})"


class People:
    """The hub's users, sessions, devices and audit log (all in its database)."""

    def __init__(self, storage: Any, settings: HubSettings) -> None:
        self.users = Users(storage)
        self.sessions = Sessions(storage)
        self.devices = Devices(storage)
        self.audit = AuditLog(storage)
        self.secure_cookies = secure_cookies(settings)


def people_of(hub: Hub) -> People:
    """The hub's :class:`People`, made once per hub."""
    found = hub.services.extra.get(PEOPLE_SERVICE)
    if found is None:
        found = hub.services.extra[PEOPLE_SERVICE] = People(hub.storage, hub.catalog.hub)
    return found


def actor_of(request: Request) -> Actor | None:
    """Who sent ``request`` (set by :mod:`expediter.web.guard`); ``None`` on a route opened to
    anyone, or on routes served without the guard (a unit test of one module's routes)."""
    actor: Actor | None = request.scope.get(ACTOR_KEY)
    return actor


def sees(request: Request, location_id: str | None) -> bool:
    actor = actor_of(request)
    return actor is None or actor.sees(location_id)


def note_for_audit(request: Request, detail: str, location_id: str | None = None) -> None:
    """What the audit entry of this request should say besides who, when and where."""
    request.scope[AUDIT_KEY] = (detail, location_id)


def address_of(request: Request) -> str:
    return request.client.host if request.client else ""


# -- cookies -----------------------------------------------------------------------------------------


def secure_cookies(settings: HubSettings) -> bool:
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return settings.public_url.lower().startswith("https://")


def set_cookie(
    response: Response, name: str, value: str, *, secure: bool, max_age: int | None = None
) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="lax")


def clear_cookie(response: Response, name: str, *, secure: bool) -> None:
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


# -- host names --------------------------------------------------------------------------------------


def allowed_hosts(settings: HubSettings) -> frozenset[str]:
    """The host names the hub answers to: ``hub.allowed_hosts`` (by default the loopback names),
    plus the host of ``hub.public_url``. Any other ``Host`` is refused (no DNS rebinding)."""
    names = {name.lower() for name in (settings.allowed_hosts or LOOPBACK_NAMES)}
    public = urlsplit(settings.public_url).hostname if settings.public_url else None
    if public:
        names.add(public.lower())
    return frozenset(names)


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without the port: ``hub.example.com:8080`` →
    ``hub.example.com``, ``[::1]:8080`` → ``::1``."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    return text.rpartition(":")[0] if text.count(":") == 1 else text
