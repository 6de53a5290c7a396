"""A local stand-in for Square's Orders API, and a webhook sender that signs the way Square does.

Tests and the demo run the Square connector against this instead of Square: RetrieveOrder
(``GET /v2/orders/{id}``), SearchOrders (``POST /v2/orders/search``, ``updated_at`` range, cursor
pages) and UpdateOrder (``PUT /v2/orders/{id}``, version-checked, idempotent by key), over an in-memory
dict of Square order JSON. Errors have Square's shape (``{"errors": [{"code": ...}]}``).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from expediter.connectors.square.signature import SIGNATURE_HEADER, square_signature
from expediter.connectors.square.wire import parse_time
from expediter.model import clock


def _error(status: int, code: str, detail: str) -> JSONResponse:
    category = "AUTHENTICATION_ERROR" if status == 401 else "INVALID_REQUEST_ERROR"
    return JSONResponse({"errors": [{"category": category, "code": code, "detail": detail}]}, status)


def _now() -> str:
    return clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SquareStandIn:
    """In-memory Square orders behind Square's routes. ``page_size`` small exercises pagination."""

    def __init__(self, *, access_token: str | None = None, page_size: int = 500) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.access_token = access_token
        self.page_size = page_size
        self.requests: list[tuple[str, str]] = []
        """Every request seen, as (method, path): lets a test tell a fetch from none."""
        self._failures: list[int] = []
        self._updates_by_key: dict[str, dict[str, Any]] = {}
        self.app = Starlette(
            routes=[
                Route("/v2/orders/search", self._search, methods=["POST"]),
                Route("/v2/orders/{order_id}", self._retrieve, methods=["GET"]),
                Route("/v2/orders/{order_id}", self._update, methods=["PUT"]),
            ]
        )

    def put_order(self, order: dict[str, Any]) -> None:
        self.orders[order["id"]] = order

    def seed_from_fixtures(self, folder: Path) -> list[str]:
        """Load every ``*OrderResponse.json`` that holds a stored order (one with an id)."""
        loaded = []
        for path in sorted(folder.glob("*OrderResponse.json")):
            order = json.loads(path.read_text(encoding="utf-8"))["order"]
            if "id" in order:
                self.put_order(order)
                loaded.append(order["id"])
        return loaded

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` (an outage, a rate limit)."""
        self._failures.extend([status] * times)

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)

    def _gate(self, request: Request) -> JSONResponse | None:
        self.requests.append((request.method, request.url.path))
        if self._failures:
            status = self._failures.pop(0)
            return _error(status, "SERVICE_UNAVAILABLE" if status >= 500 else "RATE_LIMITED", "injected")
        if self.access_token and request.headers.get("authorization") != f"Bearer {self.access_token}":
            return _error(401, "UNAUTHORIZED", "this request could not be authorized")
        return None

    async def _retrieve(self, request: Request) -> JSONResponse:
        refused = self._gate(request)
        if refused:
            return refused
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return _error(404, "NOT_FOUND", f"Order {request.path_params['order_id']} not found")
        return JSONResponse({"order": order})

    async def _search(self, request: Request) -> JSONResponse:
        refused = self._gate(request)
        if refused:
            return refused
        body = await request.json()
        if len(body.get("location_ids", [])) > 10:  # as Square refuses it
            return _error(400, "INVALID_VALUE", "Cannot provide more than 10 location_ids.")
        matching = self._matching(body)
        start = int(body.get("cursor") or 0)
        limit = min(int(body.get("limit") or self.page_size), self.page_size)
        page = matching[start : start + limit]
        answer: dict[str, Any] = {"orders": page}
        if start + limit < len(matching):
            answer["cursor"] = str(start + limit)
        return JSONResponse(answer)

    def _matching(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        locations = set(body.get("location_ids", []))
        window = body.get("query", {}).get("filter", {}).get("date_time_filter", {}).get("updated_at", {})
        start = parse_time(window["start_at"]) if "start_at" in window else None
        end = parse_time(window["end_at"]) if "end_at" in window else None
        found = []
        for order in self.orders.values():
            updated = parse_time(order.get("updated_at") or order["created_at"])
            in_window = (start is None or updated >= start) and (end is None or updated < end)
            if order["location_id"] in locations and in_window:
                found.append(order)
        return sorted(found, key=lambda o: (parse_time(o.get("updated_at") or o["created_at"]), o["id"]))

    async def _update(self, request: Request) -> JSONResponse:
        refused = self._gate(request)
        if refused:
            return refused
        body = await request.json()
        key = body.get("idempotency_key", "")
        if key in self._updates_by_key:
            return JSONResponse({"order": self._updates_by_key[key]})
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return _error(404, "NOT_FOUND", "order not found")
        sparse = body.get("order", {})
        if sparse.get("version") != order.get("version", 1):
            return _error(400, "VERSION_MISMATCH", f"the order is at version {order.get('version', 1)}")
        self._apply(order, sparse)
        if key:
            self._updates_by_key[key] = order
        return JSONResponse({"order": order})

    def _apply(self, order: dict[str, Any], sparse: dict[str, Any]) -> None:
        by_uid = {f.get("uid"): f for f in order.get("fulfillments", [])}
        for change in sparse.get("fulfillments", []):
            if change.get("uid") in by_uid:
                by_uid[change["uid"]].update({k: v for k, v in change.items() if k != "uid"})
        order["version"] = order.get("version", 1) + 1
        order["updated_at"] = _now()


def order_event(
    order: dict[str, Any], event_type: str = "order.updated", event_id: str = ""
) -> dict[str, Any]:
    """A webhook event for ``order`` shaped like Square's (id, version and state only)."""
    object_key = event_type.replace("order.", "order_").replace(".", "_")
    return {
        "merchant_id": "STANDINMERCHANT",
        "type": event_type,
        "event_id": event_id or str(uuid.uuid4()),
        "created_at": _now(),
        "data": {
            "type": object_key,
            "id": order["id"],
            "object": {
                object_key: {
                    "order_id": order["id"],
                    "version": order.get("version", 1),
                    "state": order.get("state", "OPEN"),
                    "location_id": order["location_id"],
                    "created_at": order.get("created_at"),
                    "updated_at": order.get("updated_at"),
                }
            },
        },
    }


def signed_webhook(
    event: dict[str, Any] | bytes, *, signature_key: str, notification_url: str
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Square would send for ``event`` to ``notification_url``."""
    body = event if isinstance(event, bytes) else json.dumps(event, separators=(",", ":")).encode()
    signature = square_signature(signature_key, notification_url, body)
    return body, {"content-type": "application/json", SIGNATURE_HEADER: signature}


async def send_webhook(
    client: httpx.AsyncClient,
    url: str,
    event: dict[str, Any] | bytes,
    *,
    signature_key: str,
    notification_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``event`` to ``url`` signed as Square signs it (for ``notification_url``, default ``url``);
    ``headers`` adds what a proxy on the way would (``X-Forwarded-Host``...)."""
    signed_for = notification_url or url
    body, signed = signed_webhook(event, signature_key=signature_key, notification_url=signed_for)
    return await client.post(url, content=body, headers={**signed, **(headers or {})})
