"""What a kitchen screen shows before it is paired: a one-time code to approve at ``/devices``.

The browser gets a random claim secret in a cookie with its code; once an operator approves the
code, the screen's next look (the page reloads every few seconds) trades the claim for the
device's own long-lived credential and shows the station. See :mod:`expediter.access.devices`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from expediter.access.audit import ActorKind, AuditAction
from expediter.access.devices import CODE_LIFETIME
from expediter.web import pages
from expediter.web.people import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_SECONDS,
    PAIRING_COOKIE,
    People,
    address_of,
    clear_cookie,
    set_cookie,
)

REFRESH_SECONDS = 3


async def screen_to_pair(request: Request, people: People) -> Response:
    """The pairing code for this browser, or, once approved, the screen itself (a redirect to the
    same page with the device's cookie set)."""
    address, secure = address_of(request), people.secure_cookies
    claim = request.cookies.get(PAIRING_COOKIE, "")
    claimed = await people.devices.claim(claim, address)
    if claimed is not None:
        credential, _device = claimed
        response: Response = RedirectResponse(request.url.path, status_code=303)
        set_cookie(response, DEVICE_COOKIE, credential, secure=secure, max_age=DEVICE_COOKIE_SECONDS)
        clear_cookie(response, PAIRING_COOKIE, secure=secure)
        return response
    station = str(request.path_params.get("station", ""))[:40]
    pending = await people.devices.pending(claim)
    if pending is None:
        made = await people.devices.request_pairing(station, address)
        if made is None:
            return pages.page(
                "refused.html",
                429,
                error="too many screens are waiting for a pairing code",
                fix="approve or let expire the codes at /devices, then reload this screen",
            )
        claim, pending = made
        await people.audit.record(
            "screen",
            ActorKind.ANONYMOUS,
            AuditAction.PAIRING_REQUESTED,
            target=station,
            detail=f"code {pending.shown_code}",
            address=address,
        )
    response = pages.page(
        "pairing.html",
        401,
        station=station,
        code=pending.shown_code,
        expires_at=pending.expires_at,
        minutes=CODE_LIFETIME.seconds // 60,
        approved=pending.approved_at is not None,
        refresh=REFRESH_SECONDS,
    )
    set_cookie(response, PAIRING_COOKIE, claim, secure=secure, max_age=int(CODE_LIFETIME.total_seconds()) * 2)
    response.headers["Cache-Control"] = "no-store"
    return response
