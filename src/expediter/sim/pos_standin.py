"""A local stand-in for the POS's own REST API and the marketplace's callback URLs, for the demo.

It records what the hub sends (orders entered into the POS, ready-for-pickup notices, 86s), honours
``Idempotency-Key`` (a retry is answered 200 and not recorded twice), and can be "down for
maintenance" (503) until a given moment, so the demo shows a failing flow the manager can fix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    key: str
    body: Any


@dataclass
class PosStandIn:
    down_until: float = 0.0
    """``time.monotonic()`` before which every call answers 503."""
    received: list[Received] = field(default_factory=list)
    _keys: set[str] = field(default_factory=set)

    def go_down_for(self, seconds: float) -> None:
        self.down_until = time.monotonic() + seconds

    def is_down(self) -> bool:
        return time.monotonic() < self.down_until

    def count(self, path: str) -> int:
        return sum(1 for r in self.received if r.path == path)

    async def _receive(self, request: Request) -> Response:
        if self.is_down():
            return JSONResponse({"error": "POS API down for maintenance"}, status_code=503)
        key = request.headers.get("idempotency-key", "")
        if key and key in self._keys:
            return JSONResponse({"status": "duplicate"}, status_code=200)
        body = await request.body()
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        self._keys.add(key)
        self.received.append(Received(path=request.url.path, key=key, body=decoded))
        return JSONResponse({"status": "accepted"}, status_code=201)

    async def _list(self, request: Request) -> Response:
        return JSONResponse(
            {"down": self.is_down(), "received": [{"path": r.path, "key": r.key} for r in self.received]}
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/orders", self._receive, methods=["POST"]),
                Route("/status", self._receive, methods=["POST"]),
                Route("/online/status", self._receive, methods=["POST"]),
                Route("/online/availability", self._receive, methods=["POST"]),
                Route("/received", self._list, methods=["GET"]),
            ]
        )
