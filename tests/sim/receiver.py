"""A tiny stand-in for the hub's ``POST /api/v1/orders`` on real uvicorn, on a loopback port.

It stores idempotency keys like the hub's inbox: 202 the first time, 200 for a duplicate, 401
without the right bearer token, 422 for the ids it is told to refuse.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from expediter.model.order import Order

TOKEN = "test-token-123"


class Receiver:
    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.keys: list[str] = []
        self.orders: dict[str, Order] = {}
        self.url = ""

    async def orders_endpoint(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": "bad token"}, status_code=401)
        key = request.headers.get("idempotency-key", "")
        order = msgspec.json.decode(await request.body(), type=Order)
        if order.id in self.refuse:
            return JSONResponse({"error": "refused on purpose"}, status_code=422)
        if key in self.orders:
            return JSONResponse({"status": "duplicate"}, status_code=200)
        self.keys.append(key)
        self.orders[key] = order
        return JSONResponse({"status": "accepted"}, status_code=202)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/v1/orders", self.orders_endpoint, methods=["POST"])])


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    """Serve ``receiver`` on 127.0.0.1 (port chosen by the kernel) until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        receiver.app(), lifespan="off", ws="none", http="h11", loop="asyncio", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    while thread.is_alive() and not server.started:
        started.wait(0.01)
    assert server.started, "the receiver did not start"
    receiver.url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
