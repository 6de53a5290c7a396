"""Signing in and pairing in tests, the way a person and a kitchen screen do it: the real sign-in
form, the real pairing code, over the real HTTP stack. No switch turns the door off; tests go
through it.

- :func:`add_user` puts a person in the hub's database (as ``expediter users add`` does);
- :func:`sign_in` fills the sign-in form and returns the session's CSRF token (read from a page,
  as a browser holds it);
- :func:`pair_screen` opens a station's screen, has an operator approve its code, and returns the
  device's CSRF token (from the screen's page).

For a hub run as its own process (``expediter serve``) the same steps go the whole way a person
goes: :func:`add_user_by_command` runs ``expediter users add``, :func:`sign_in_to` fills the
sign-in form, :func:`pair_at_devices` has the signed-in operator approve the screen's code on the
``/devices`` page.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from expediter.access.roles import Role
from expediter.access.users import Users
from expediter.web.people import people_of

PASSWORD = "a long test password"
BASE_URL = "https://localhost"
"""One of the host names every hub answers to (``hub.allowed_hosts``' default); https, so that
the cookies of a hub behind https (``Secure``) come back too."""
_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_CODE = re.compile(r'id="pairing-code">([A-Z0-9 ]+)<')


def client_for(app: Any, base_url: str = BASE_URL) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


async def add_user(
    hub: Any, name: str = "manager", role: Role = Role.ADMIN, locations: tuple[str, ...] = ()
) -> None:
    await Users(hub.storage).add(name, role, list(locations), PASSWORD)


def form_token(page: httpx.Response) -> str:
    """The CSRF token a page's forms carry."""
    found = _FIELD.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in_form(page: httpx.Response, name: str, password: str) -> dict[str, str]:
    return {"csrf": form_token(page), "name": name, "password": password, "next": "/"}


async def sign_in(client: httpx.AsyncClient, name: str = "manager", password: str = PASSWORD) -> str:
    """Sign in through ``/login``; the session's CSRF token (every form of the hub carries it)."""
    answer = await client.post("/login", data=sign_in_form(await client.get("/login"), name, password))
    assert answer.status_code == 303, answer.text
    return form_token(await client.get("/transfers"))


def sign_in_to(client: httpx.Client, name: str = "manager", password: str = PASSWORD) -> str:
    """:func:`sign_in` for a served hub (a blocking client)."""
    answer = client.post("/login", data=sign_in_form(client.get("/login"), name, password))
    assert answer.status_code == 303, answer.text
    return form_token(client.get("/transfers"))


def add_user_by_command(
    catalog: Path, name: str = "manager", role: Role = Role.ADMIN, locations: tuple[str, ...] = ()
) -> None:
    """``expediter users add`` on the hub's machine, the password on standard input (as a
    provisioning script gives it); no locations: every location."""
    where = [arg for location in locations for arg in ("--location", location)] or ["--all-locations"]
    command = [sys.executable, "-m", "expediter.cli", "users", "add", name, "--role", role.value, *where]
    command += ["--password-stdin", "--catalog", str(catalog)]
    done = subprocess.run(command, input=f"{PASSWORD}\n", capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@asynccontextmanager
async def signed_in(
    hub: Any, app: Any, role: Role = Role.ADMIN, locations: tuple[str, ...] = (), name: str = ""
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client signed in as a new user (``name``, else the role's name; created here):
    (client, the session's CSRF token)."""
    await add_user(hub, name or role.value, role, locations)
    async with client_for(app) as client:
        yield client, await sign_in(client, name or role.value)


@asynccontextmanager
async def admin_client(hub: Any, app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as an admin who sees every location."""
    async with signed_in(hub, app, Role.ADMIN) as (client, _csrf):
        yield client


def code_on(page: httpx.Response) -> str:
    found = _CODE.search(page.text)
    assert found, page.text
    return found.group(1).replace(" ", "")


async def pair_screen(
    hub: Any,
    client: httpx.AsyncClient,
    station: str = "grill",
    location: str = "L1",
    stations: tuple[str, ...] = (),
) -> str:
    """Open ``/kds/<station>`` (it shows a code), approve the code as an operator would, open the
    screen again (it gets its device cookie); returns the device's CSRF token."""
    first = await client.get(f"/kds/{station}")
    assert first.status_code == 401, first.text
    await people_of(hub).devices.approve(
        code_on(first),
        name=f"{station} screen",
        location_id=location,
        stations=list(stations or (station,)),
        approved_by="tests",
    )
    claimed = await client.get(f"/kds/{station}")
    assert claimed.status_code == 303, claimed.text
    screen = await client.get(f"/kds/{station}")
    found = _META.search(screen.text)
    assert screen.status_code == 200 and found, screen.text
    return found.group(1)


def pair_at_devices(
    client: httpx.Client, station: str = "grill", location: str = "L1", stations: tuple[str, ...] = ()
) -> str:
    """On a served hub, in one browser signed in as an operator: open ``/kds/<station>`` (it shows
    a code), approve the code on ``/devices`` for ``location`` (``*``: every location) and
    ``stations``, open the screen again (it takes its device cookie); the device's CSRF token."""
    code = code_on(client.get(f"/kds/{station}"))
    form = {"csrf": form_token(client.get("/devices")), "code": code, "name": f"{station} screen"}
    approved = client.post(
        "/devices/approve", data={**form, "location": location, "stations": list(stations or (station,))}
    )
    assert approved.status_code == 303 and "done=" in approved.headers["location"], approved.headers
    assert client.get(f"/kds/{station}").status_code == 303  # the screen takes its credential
    screen = client.get(f"/kds/{station}")
    found = _META.search(screen.text)
    assert screen.status_code == 200 and found, screen.text
    return found.group(1)


def sign_in_page(page: Any, url: str, name: str = "manager", password: str = PASSWORD) -> None:
    """Sign in through the sign-in form in a real browser (a Playwright page)."""
    page.goto(f"{url}/login")
    page.fill('input[name="name"]', name)
    page.fill('input[name="password"]', password)
    page.click('form.signin button[type="submit"]')
    page.wait_for_url(f"{url}/")
