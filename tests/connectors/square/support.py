"""Shared test helpers for the Square connector: a catalog, an in-memory inbox, fixture files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.model.location import Location
from expediter.plugin.base import ConnectorContext, IncomingMessage, Outbound
from expediter.plugin.services import Services
from tests.fixtures_path import SHARED_FIXTURES

SQUARE_FIXTURES = SHARED_FIXTURES / "square"
SIGNATURE_KEY = "test-signature-key"
ACCESS_TOKEN = "test-access-token"
NOTIFICATION_URL = "https://hub.example.com/api/v1/webhooks/square"
SECRET_ENV = {"EXPEDITER_TEST_SQUARE_KEY": SIGNATURE_KEY, "EXPEDITER_TEST_SQUARE_TOKEN": ACCESS_TOKEN}

ORDER_FIXTURES = sorted(SQUARE_FIXTURES.glob("*OrderResponse.json"))
EVENT_FIXTURES = sorted(SQUARE_FIXTURES.glob("*Event.json"))


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads((SQUARE_FIXTURES / name).read_text(encoding="utf-8"))


def square_locations() -> dict[str, str]:
    """Every Square location id in the fixtures, mapped to hub locations (one per Square location)."""
    found: set[str] = set()
    for path in SQUARE_FIXTURES.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        for part in text.split('"location_id": "')[1:]:
            found.add(part.split('"', 1)[0])
    return {square_id: f"hub-{square_id.lower()}" for square_id in sorted(found)}


def square_context(services: dict[str, Any] | None = None, **settings: Any) -> ConnectorContext:
    values: dict[str, Any] = {
        "signature_key": "env:EXPEDITER_TEST_SQUARE_KEY",
        "access_token": "env:EXPEDITER_TEST_SQUARE_TOKEN",
        "notification_url": NOTIFICATION_URL,
        "base_url": "http://square.test",
        "locations": square_locations(),
    }
    values.update(settings)
    system = System(id="square", kind=SystemKind.POS, connector="square", owner="ops", settings=values)
    locations = [
        Location(id=hub, name=hub, timezone="America/New_York") for hub in square_locations().values()
    ]
    catalog = Catalog(locations=locations, systems=[system])
    return ConnectorContext(catalog=catalog, system=system, services=Services(**(services or {})))


def outbound(message: IncomingMessage, *, kind: str | None = None, key: str = "delivery-1") -> Outbound:
    """A stored message as the engine hands it to a processor or sink."""
    return Outbound(
        delivery_id=1,
        delivery_key=key,
        message_id=1,
        flow_id="flow",
        destination="square",
        location_id=message.location_id,
        kind=kind or message.kind,
        payload=message.payload,
        content_type=message.content_type,
        attempt=1,
    )


class MemoryInbox:
    """What the engine's inbox does for these tests: one message per key, newest order versions."""

    def __init__(self) -> None:
        self.messages: dict[str, IncomingMessage] = {}

    def accept(self, message: IncomingMessage) -> bool:
        if message.idempotency_key in self.messages:
            return False
        self.messages[message.idempotency_key] = message
        return True

    async def latest_version(self, source_system: str, external_id: str) -> int | None:
        versions = [
            int(key.rsplit(":", 1)[1])
            for key, message in self.messages.items()
            if message.kind == "orders" and key.startswith(f"{source_system}:{external_id}:")
        ]
        return max(versions, default=None)


def path_name(path: Path) -> str:
    return path.stem


class LoopbackServer:
    """An ASGI app served by a real uvicorn on a free loopback port, in a thread of this process."""

    def __init__(self, app: Any) -> None:
        import socket

        import uvicorn

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread: Any = None

    def __enter__(self) -> LoopbackServer:
        import asyncio
        import threading

        sockets = [self._socket]
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=sockets)), name="uvicorn-test", daemon=True
        )
        self._thread.start()
        started = threading.Event()
        while not started.wait(0.01):  # uvicorn sets .started once it accepts connections
            if self._server.started:
                started.set()
            elif not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def webhook_app(receivers: dict[str, Any], inbox: MemoryInbox) -> Any:
    """A stand-in for the hub's ``POST /api/v1/webhooks/{system}``: the status codes the engine
    gives (401 bad signature with its hint, 422 refused input, 202 stored, 200 duplicate)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from expediter.errors import RejectedInput
    from expediter.plugin.base import SignatureInvalid

    async def receive(request: Request) -> JSONResponse:
        receiver = receivers[request.path_params["system"]]
        body = await request.body()
        try:
            receiver.verify(request.headers, body, str(request.url))
            messages = receiver.messages(request.headers, body)
        except SignatureInvalid as exc:
            return JSONResponse({"error": str(exc), "hint": exc.hint}, 401)
        except RejectedInput as exc:
            return JSONResponse({"error": exc.message, "where": exc.where, "fix": exc.fix}, 422)
        stored = [inbox.accept(message) for message in messages]
        return JSONResponse({"stored": sum(stored)}, 202 if any(stored) else 200)

    return Starlette(routes=[Route("/api/v1/webhooks/{system}", receive, methods=["POST"])])
