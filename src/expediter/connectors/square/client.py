"""Talking to Square's Orders API: RetrieveOrder, SearchOrders, UpdateOrder.

HTTP statuses become retry classes through :func:`expediter.errors.error_for_status` only; a network
failure is a :class:`TransientError`. The one Square-specific exception: ``VERSION_MISMATCH`` on an
update means someone else changed the order first, which a retry (re-reading the version) fixes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import msgspec

from expediter.connectors.square.wire import SqOrder, SqOrderEnvelope, SqSearchOrdersResponse
from expediter.plugin import TerminalError, TransientError, error_for_status

T = TypeVar("T")

SEARCH_MAX_LOCATIONS = 10
"""Square's limit on ``location_ids`` in one SearchOrders call."""
SEARCH_PAGE_LIMIT = 500
"""Square's maximum page size for SearchOrders."""


def rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


class SquareClient:
    """One Square seller account. ``transport`` swaps the network (an in-process app in tests)."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        square_version: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Square-Version": square_version,
            "Accept": "application/json",
        }
        self._timeout = timeout
        self._transport = transport

    async def retrieve_order(self, order_id: str) -> SqOrder:
        body = await self._request("GET", f"/v2/orders/{order_id}")
        return _decode(body, SqOrderEnvelope).order

    async def search_orders(
        self, location_ids: list[str], start: datetime, end: datetime, *, limit: int = SEARCH_PAGE_LIMIT
    ) -> AsyncIterator[SqOrder]:
        """Every order at ``location_ids`` updated in [start, end), across pages; SearchOrders takes
        at most ten locations a call, so a larger group is searched ten locations at a time."""
        for first in range(0, len(location_ids), SEARCH_MAX_LOCATIONS):
            chunk = location_ids[first : first + SEARCH_MAX_LOCATIONS]
            cursor: str | None = None
            while True:
                query = _search_query(chunk, start, end, limit, cursor)
                page = _decode(
                    await self._request("POST", "/v2/orders/search", query), SqSearchOrdersResponse
                )
                for order in page.orders:
                    yield order
                cursor = page.cursor
                if not cursor:
                    break

    async def update_order(self, order_id: str, order: dict[str, Any], idempotency_key: str) -> SqOrder:
        """UpdateOrder (sparse: only the fields in ``order``; ``version`` must be the current one)."""
        body = {"order": order, "idempotency_key": idempotency_key}
        return _decode(await self._request("PUT", f"/v2/orders/{order_id}", body), SqOrderEnvelope).order

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        content = msgspec.json.encode(body) if body is not None else None
        headers = dict(self._headers)
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self._timeout, transport=self._transport
            ) as client:
                response = await client.request(method, path, content=content, headers=headers)
        except httpx.TransportError as exc:
            raise TransientError(f"Square {method} {path}: {type(exc).__name__}: {exc}") from exc
        _raise_for(response, method, path)
        return response.content


def _raise_for(response: httpx.Response, method: str, path: str) -> None:
    detail = _error_detail(response)
    if response.status_code == 400 and "VERSION_MISMATCH" in detail:
        raise TransientError(f"Square {method} {path}: the order changed meanwhile ({detail})")
    error = error_for_status(
        response.status_code,
        f"Square {method} {path}: {detail}".strip(),
        location=response.headers.get("location"),
    )
    if error is not None:
        if isinstance(error, TransientError):
            retry_after = response.headers.get("retry-after", "")
            error.retry_after = float(retry_after) if retry_after.isdigit() else None
        raise error


def _error_detail(response: httpx.Response) -> str:
    """Square's ``errors[].code`` list, which says far more than the status."""
    if response.status_code < 400:
        return ""
    try:
        errors = msgspec.json.decode(response.content).get("errors", [])
        return ", ".join(f"{e.get('code', '')} {e.get('detail', '')}".strip() for e in errors)
    except (msgspec.DecodeError, AttributeError):
        return response.text[:200]


def _decode(body: bytes, type_: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise TerminalError(f"Square answered with an unexpected shape: {exc}") from exc


def _search_query(
    location_ids: list[str], start: datetime, end: datetime, limit: int, cursor: str | None
) -> dict[str, Any]:
    updated_range = {"updated_at": {"start_at": rfc3339(start), "end_at": rfc3339(end)}}
    query: dict[str, Any] = {
        "location_ids": location_ids,
        "limit": limit,
        "query": {
            "filter": {"date_time_filter": updated_range},
            "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
        },
    }
    if cursor:
        query["cursor"] = cursor
    return query
