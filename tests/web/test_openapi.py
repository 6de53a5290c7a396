"""``/openapi.json`` describes every route the hub serves, and the running hub keeps to it.

The second half is schemathesis against a real ``expediter serve`` on loopback: a bounded number
of generated requests per operation (deterministic), each answer checked for a 5xx, an
undocumented status, a wrong content type, a body that does not match its schema and missing
documented headers. The run goes through the door as people and screens do: a manager added with
``expediter users add`` signs in through the form, approves a kitchen screen's code at
``/devices``, and every request carries that session, that screen's cookie and the CSRF token of
whichever the route is for (and the POS's bearer token).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from starlette.routing import Route

from expediter.catalog.schema import ApiToken, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.engine.hub import Hub as Engine
from expediter.model.location import Location
from expediter.sim.ports import free_port
from expediter.web.app import collect_routes, create_app
from expediter.web.openapi import openapi_document
from expediter.web.people import DEVICE_COOKIE, SESSION_COOKIE
from expediter.web.roles import Caller, caller_of, role_needed
from tests.processes import kill_group, wait_healthy
from tests.web.signin import add_user_by_command, pair_at_devices, sign_in_to

TOKEN = "schemathesis-token"
SECRET_ENV = "EXPEDITER_TEST_ONLINE_SECRET"
STREAMING = "/kds/{station}/events"
"""The live feed never ends by itself: it is described, and tested by tests/web/test_kds_sse.py."""
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def hub_catalog(folder: Path) -> Catalog:
    """Every part the document describes: a POS with a token, an online shop that signs its
    webhooks, the kitchen screens, and a flow from the POS to the kitchen."""
    return Catalog(
        hub=Hub(database=str(folder / "hub.db")),
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(
                id="shop",
                kind=SystemKind.ONLINE_ORDERING,
                connector="online",
                owner="ops",
                settings={"secret": f"env:{SECRET_ENV}"},
            ),
            System(id="kds", kind=SystemKind.KDS, connector="kds", owner="kitchen"),
        ],
        flows=[
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                transport="sse",
                owner="kitchen",
                description="What the test sends through the hub.",
                impact="The test's orders stop.",
                contact="kitchen@bistro.example",
            )
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )


def served_routes(catalog: Catalog) -> set[tuple[str, str]]:
    app = create_app(Engine(catalog))
    found = {(method.lower(), path) for method, path in app.fast}  # type: ignore[attr-defined]
    for route in app.routes:
        assert isinstance(route, Route)
        path = re.sub(r":\w+}", "}", route.path)  # {alert_id:int} is {alert_id} in the document
        found |= {(method.lower(), path) for method in route.methods or () if method != "HEAD"}
    return found


def documented_routes() -> set[tuple[str, str]]:
    paths = openapi_document()["paths"]
    return {(method, path) for path, operations in paths.items() for method in operations}


def test_every_route_is_described(tmp_path: Path) -> None:
    assert documented_routes() == served_routes(hub_catalog(tmp_path))


def test_every_route_is_described_with_its_caller_and_role(tmp_path: Path) -> None:
    """Who calls each route and the least role it needs, as the route itself is marked (the door
    enforces the marks; the document tells a client what it will meet)."""
    served = {
        (method.lower(), route.path): (caller_of(route.endpoint).value, role_needed(route.endpoint).value)
        for route in collect_routes(Engine(hub_catalog(tmp_path)))
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    described = {
        (method, path): (operation["x-caller"], operation["x-role"])
        for path, operations in openapi_document()["paths"].items()
        for method, operation in operations.items()
    }
    assert described == served
    assert served[("post", "/dashboard/replay")] == ("person", "operator")
    assert served[("post", "/api/v1/kds/availability")] == ("device", "operator")
    assert served[("get", "/audit")] == ("person", "admin")


def test_every_operation_describes_its_refusals() -> None:
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert any(s.startswith("2") or s.startswith("3") for s in statuses), (method, path)
            if operation.get("security"):  # without the credential: refused, or sent to sign in
                assert {"401", "303"} & statuses, (method, path)
                if method != "get":  # a forged or out-of-date request
                    assert "403" in statuses, (method, path)
            if operation["x-caller"] == Caller.PERSON:  # before the first user
                assert "503" in statuses, (method, path)
            if "requestBody" in operation:
                assert "413" in statuses, (method, path)


def test_the_hub_serves_this_document(tmp_path: Path) -> None:
    import asyncio

    async def fetch() -> httpx.Response:
        app = create_app(Engine(hub_catalog(tmp_path)), manage_hub=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.get("/openapi.json")

    answer = asyncio.run(fetch())
    assert answer.status_code == 200
    assert answer.json() == msgspec.json.decode(msgspec.json.encode(openapi_document()))


@dataclass
class Door:
    """A manager's browser, signed in, that is also a paired kitchen screen for every station:
    what each generated request carries."""

    client: httpx.Client
    session_csrf: str = ""
    device_csrf: str = ""

    def sign_in(self) -> None:
        self.session_csrf = sign_in_to(self.client)

    def pair(self) -> None:
        self.device_csrf = pair_at_devices(self.client, "grill", "*", stations=STATIONS)

    def credentials(self, case: schemathesis.Case) -> dict[str, Any]:
        caller = case.operation.definition.raw["x-caller"]
        csrf = self.device_csrf if caller in (Caller.DEVICE, Caller.SCREEN) else self.session_csrf
        cookies = {name: self.client.cookies[name] for name in (SESSION_COOKIE, DEVICE_COOKIE)}
        return {"headers": {"Authorization": f"Bearer {TOKEN}", "X-CSRF-Token": csrf}, "cookies": cookies}

    def again(self) -> None:
        """After a generated sign-out or revocation that hit this very session or screen: sign in
        and pair again, as the manager would."""
        if self.client.get("/transfers").status_code != 200:
            self.client.cookies.delete(SESSION_COOKIE)
            self.sign_in()
        if self.client.get("/api/v1/kds/grill/tickets").status_code != 200:
            self.client.cookies.delete(DEVICE_COOKIE)
            self.pair()


STATIONS = ("grill", "fry", "expo")


@pytest.fixture(scope="module")
def door(hub_url: str) -> Iterator[Door]:
    with httpx.Client(base_url=hub_url, timeout=httpx.Timeout(30.0)) as client:
        door = Door(client)
        door.sign_in()
        door.pair()
        yield door


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("schemathesis")
    config = folder / "catalog.json"
    config.write_bytes(msgspec.json.encode(hub_catalog(folder)))
    add_user_by_command(config)  # the manager the run signs in as
    port = free_port()
    command = [sys.executable, "-c", "from expediter.cli import main; main()", "serve", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    env = {**os.environ, SECRET_ENV: "schemathesis-secret"}
    with (folder / "hub.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill_group(process)
            process.wait()


schema = schemathesis.openapi.from_dict(openapi_document()).exclude(path=STREAMING)


@pytest.mark.slow
@pytest.mark.service
@schema.parametrize()
@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_running_hub_keeps_to_its_document(case: schemathesis.Case, hub_url: str, door: Door) -> None:
    case.call_and_validate(
        base_url=hub_url, checks=CHECKS, allow_redirects=False, timeout=30, **door.credentials(case)
    )
    if case.path in ("/logout", "/devices/revoke"):
        door.again()
