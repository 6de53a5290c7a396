"""Posting signed JSON to the online ordering system (status and availability)."""

from __future__ import annotations

import httpx

from expediter.connectors.online.signature import signed_headers
from expediter.plugin import TransientError, error_for_status


class OnlineClient:
    """Signs like the marketplace signs its webhooks; ``transport`` swaps the network in tests."""

    def __init__(
        self, secret: str, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._secret = secret
        self._timeout = timeout
        self._transport = transport

    async def post(self, url: str, body: bytes, *, idempotency_key: str) -> httpx.Response:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            **signed_headers(self._secret, body),
        }
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise TransientError(f"POST {url}: {type(exc).__name__}: {exc}") from exc
        error = error_for_status(
            response.status_code,
            f"POST {url}: {response.text[:200]}",
            location=response.headers.get("location"),
        )
        if error is not None:
            raise error
        return response
