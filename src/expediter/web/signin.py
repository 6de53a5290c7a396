"""``/login`` and ``/logout``: a person signs in with a name and a password and gets a session.

The sign-in form carries its own CSRF token (the same random value in a cookie and in the form,
since there is no session yet), so another site cannot sign a visitor in under its own account.
After :data:`LOCK_AFTER` failed sign-ins for one name within :data:`LOCK_WINDOW` that name is
refused until the window has passed (counted from the audit log, so every hub process agrees).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from expediter.access.audit import ActorKind, AuditAction, Outcome
from expediter.access.credentials import new_secret, same
from expediter.access.sessions import LONGEST
from expediter.engine.hub import Hub
from expediter.storage.base import utcnow
from expediter.web import pages
from expediter.web.people import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    People,
    actor_of,
    address_of,
    clear_cookie,
    people_of,
    set_cookie,
)
from expediter.web.roles import Caller, open_to

LOCK_AFTER = 10
LOCK_WINDOW = timedelta(minutes=15)
NAME_LIMIT = 64
PASSWORD_LIMIT = 1024


def local_target(text: str) -> str:
    """Where to go after signing in: a path of this hub only (never another site)."""
    parts = urlsplit(text)
    if not text.startswith("/") or text.startswith(("//", "/\\")) or parts.scheme or parts.netloc:
        return "/"
    return text


class SignIn:
    def __init__(self, people: People) -> None:
        self.people = people

    def _form(
        self, status: int, *, next_url: str, name: str = "", error: str = "", has_users: bool = True
    ) -> Response:
        token = new_secret()
        response = pages.page(
            "login.html", status, token=token, next_url=next_url, name=name, error=error, has_users=has_users
        )
        set_cookie(response, SIGNIN_COOKIE, token, secure=self.people.secure_cookies, max_age=3600)
        response.headers["Cache-Control"] = "no-store"
        return response

    @open_to(Caller.ANYONE)
    async def page(self, request: Request) -> Response:
        next_url = local_target(request.query_params.get("next", "/"))
        session = await self.people.sessions.find(request.cookies.get(SESSION_COOKIE, ""))
        if session is not None:
            return RedirectResponse(next_url, status_code=303)
        has_users = await self.people.users.count() > 0
        return self._form(200 if has_users else 503, next_url=next_url, has_users=has_users)

    @open_to(Caller.ANYONE)
    async def login(self, request: Request) -> Response:
        fields = parse_qs((await request.body()).decode("utf-8", "replace"))
        field: dict[str, Any] = {key: values[0] for key, values in fields.items()}
        name = str(field.get("name", "")).strip()[:NAME_LIMIT]
        password = str(field.get("password", ""))[:PASSWORD_LIMIT]
        next_url = local_target(str(field.get("next", "/")))
        expected = request.cookies.get(SIGNIN_COOKIE, "")
        if not expected or not same(str(field.get(pages.CSRF_FIELD, "")), expected) or _cross_site(request):
            return self._form(
                403, next_url=next_url, name=name, error="The sign-in form was out of date: try again."
            )
        address = address_of(request)
        since = utcnow() - LOCK_WINDOW
        if await self.people.audit.count(name, AuditAction.LOGIN_FAILED, since) >= LOCK_AFTER:
            await self._record(
                name, AuditAction.LOGIN_FAILED, address, Outcome.REFUSED, "locked: too many failures"
            )
            minutes = LOCK_WINDOW.seconds // 60
            error = (
                f"Too many failed sign-ins for {name}: wait {minutes} minutes,"
                " or ask an admin to reset the password."
            )
            return self._form(429, next_url=next_url, name=name, error=error)
        user = await self.people.users.authenticate(name, password) if name else None
        if user is None:
            await self._record(
                name or "(no name)",
                AuditAction.LOGIN_FAILED,
                address,
                Outcome.REFUSED,
                "wrong name or password",
            )
            return self._form(401, next_url=next_url, name=name, error="Wrong name or password.")
        secret = await self.people.sessions.start(user, address)
        await self._record(
            user.name, AuditAction.LOGIN, address, Outcome.DONE, f"as {user.role.value}", ActorKind.USER
        )
        response = RedirectResponse(next_url, status_code=303)
        set_cookie(
            response,
            SESSION_COOKIE,
            secret,
            secure=self.people.secure_cookies,
            max_age=int(LONGEST.total_seconds()),
        )
        clear_cookie(response, SIGNIN_COOKIE, secure=self.people.secure_cookies)
        return response

    async def _record(
        self,
        actor: str,
        action: AuditAction,
        address: str,
        outcome: Outcome,
        detail: str,
        kind: ActorKind = ActorKind.ANONYMOUS,
    ) -> None:
        await self.people.audit.record(actor, kind, action, outcome, detail=detail, address=address)

    async def logout(self, request: Request) -> Response:
        """Signed in (the door checked the session and its CSRF token): end the session."""
        await self.people.sessions.end(request.cookies.get(SESSION_COOKIE, ""))
        actor = actor_of(request)
        response = RedirectResponse("/login", status_code=303)
        clear_cookie(response, SESSION_COOKIE, secure=self.people.secure_cookies)
        if actor is not None:
            response.headers["Clear-Site-Data"] = '"cache"'
        return response


def _cross_site(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def routes(hub: Hub) -> list[BaseRoute]:
    sign_in = SignIn(people_of(hub))
    return [
        Route("/login", sign_in.page, methods=["GET"], name="login_page"),
        Route("/login", sign_in.login, methods=["POST"], name="login"),
        Route("/logout", sign_in.logout, methods=["POST"], name="logout"),
    ]
