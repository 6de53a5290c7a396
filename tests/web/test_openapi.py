"""``/openapi.json`` describes every route the hub serves, and the running hub keeps to it.

The second half is schemathesis against a real ``expediter serve`` on loopback: a bounded number
of generated requests per operation (deterministic), each answer checked for a 5xx, an
undocumented status, a wrong content type, a body that does not match its schema and missing
documented headers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
from expediter.web.app import create_app
from expediter.web.openapi import openapi_document
from tests.processes import kill_group, wait_healthy

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
            )
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )


def served_routes(catalog: Catalog) -> set[tuple[str, str]]:
    app = create_app(Engine(catalog))
    found = {(method.lower(), path) for method, path in app.fast}  # type: ignore[attr-defined]
    for route in app.routes:
        assert isinstance(route, Route)
        found |= {(method.lower(), route.path) for method in route.methods or () if method != "HEAD"}
    return found


def documented_routes() -> set[tuple[str, str]]:
    paths = openapi_document()["paths"]
    return {(method, path) for path, operations in paths.items() for method in operations}


def test_every_route_is_described(tmp_path: Path) -> None:
    assert documented_routes() == served_routes(hub_catalog(tmp_path))


def test_every_operation_describes_its_refusals() -> None:
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert any(s.startswith("2") or s.startswith("3") for s in statuses), (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= statuses, (method, path)
            if "requestBody" in operation:
                assert "413" in statuses, (method, path)


def test_the_hub_serves_this_document(tmp_path: Path) -> None:
    import asyncio

    async def fetch() -> httpx.Response:
        app = create_app(Engine(hub_catalog(tmp_path)), manage_hub=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await client.get("/openapi.json")

    answer = asyncio.run(fetch())
    assert answer.status_code == 200
    assert answer.json() == msgspec.json.decode(msgspec.json.encode(openapi_document()))


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("schemathesis")
    config = folder / "catalog.json"
    config.write_bytes(msgspec.json.encode(hub_catalog(folder)))
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
def test_the_running_hub_keeps_to_its_document(case: schemathesis.Case, hub_url: str) -> None:
    case.call_and_validate(
        base_url=hub_url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=CHECKS,
        allow_redirects=False,
        timeout=30,
    )
