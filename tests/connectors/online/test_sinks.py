"""Status and 86 out to the online system: a real HTTP receiver on loopback checks what arrives."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from expediter.connectors.online.connector import make_sink
from expediter.connectors.online.signature import verify_online_signature
from expediter.errors import TerminalError, TransientError
from expediter.plugin.base import Outbound, Receipt
from expediter.sim.ports import free_port
from tests.connectors.online.support import SECRET, online_context
from tests.connectors.square.support import LoopbackServer

READY = {"order_id": "online-DD-1001", "external_id": "DD-1001", "status": "ready", "location_id": "main"}
EIGHTY_SIX = {
    "location_id": "main",
    "plu": "2002",
    "name": "Fries",
    "available": False,
    "reason": "fryer down",
}


class Receiver:
    """The online system's side: verifies the signature like the hub does, records what came."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, dict[str, Any]]] = []
        self.answer_status = 200
        self.app = Starlette(routes=[Route("/hooks/{what}", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> JSONResponse:
        body = await request.body()
        verify_online_signature(request.headers, body, secret=SECRET, window_seconds=300)
        self.received.append(
            (request.path_params["what"], request.headers["idempotency-key"], msgspec.json.decode(body))
        )
        return JSONResponse({"ok": self.answer_status < 400}, self.answer_status)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    online = Receiver()
    with LoopbackServer(online.app) as server:
        yield online, server.url


def deliver(
    url: str, kind: str, payload: dict[str, Any], key: str = "delivery-9", **settings: Any
) -> Receipt:
    ctx = online_context(
        status_url=f"{url}/hooks/status", availability_url=f"{url}/hooks/availability", **settings
    )
    item = Outbound(
        delivery_id=9,
        delivery_key=key,
        message_id=3,
        flow_id="kds-to-online",
        destination="online",
        location_id="main",
        kind=kind,
        payload=msgspec.json.encode(payload),
        content_type="application/json",
        attempt=1,
    )
    return asyncio.run(make_sink(ctx).deliver(item))


def test_ticket_ready_is_posted_signed_with_the_delivery_key(receiver: tuple[Receiver, str]) -> None:
    online, url = receiver
    receipt = deliver(url, "ticket_status", READY)
    assert online.received == [("status", "delivery-9", READY)]
    assert receipt.remote_ref == f"{url}/hooks/status" and receipt.records == 1


def test_ready_notice_for_another_systems_order_is_not_posted(receiver: tuple[Receiver, str]) -> None:
    online, url = receiver
    dine_in = {**READY, "order_id": "pos-T12", "external_id": "T12", "source_system": "pos"}
    receipt = deliver(url, "ticket_status", dine_in)
    assert online.received == []
    assert receipt.records == 0 and "not an order of" in receipt.remote_ref
    ours = deliver(url, "ticket_status", {**READY, "source_system": "online"}, key="delivery-12")
    assert ours.records == 1 and [key for _, key, _ in online.received] == ["delivery-12"]


def test_86_is_posted_to_the_availability_url(receiver: tuple[Receiver, str]) -> None:
    online, url = receiver
    deliver(url, "availability", EIGHTY_SIX, key="delivery-10")
    deliver(url, "availability", {**EIGHTY_SIX, "available": True, "reason": ""}, key="delivery-11")
    assert [(what, key, body["available"]) for what, key, body in online.received] == [
        ("availability", "delivery-10", False),
        ("availability", "delivery-11", True),
    ]


@pytest.mark.parametrize(
    ("status", "error"), [(503, TransientError), (429, TransientError), (400, TerminalError)]
)
def test_receiver_errors_map_to_retry_classes(
    receiver: tuple[Receiver, str], status: int, error: type[Exception]
) -> None:
    online, url = receiver
    online.answer_status = status
    with pytest.raises(error, match=str(status)):
        deliver(url, "ticket_status", READY)


def test_unreachable_receiver_is_transient() -> None:
    port = free_port()  # a loopback port nobody listens on
    with pytest.raises(TransientError, match="ConnectError"):
        deliver(f"http://127.0.0.1:{port}", "ticket_status", READY)


def test_missing_url_and_wrong_kind_are_terminal(receiver: tuple[Receiver, str]) -> None:
    _, url = receiver
    with pytest.raises(TerminalError, match="availability_url is not set"):
        asyncio.run(
            make_sink(online_context(availability_url="")).deliver(
                Outbound(
                    delivery_id=1,
                    delivery_key="k",
                    message_id=1,
                    flow_id="f",
                    destination="online",
                    location_id=None,
                    kind="availability",
                    payload=msgspec.json.encode(EIGHTY_SIX),
                    content_type="application/json",
                    attempt=1,
                )
            )
        )
    with pytest.raises(TerminalError, match="not orders"):
        deliver(url, "orders", READY)
    with pytest.raises(TerminalError, match="does not decode"):
        deliver(url, "ticket_status", {"status": "ready"})
