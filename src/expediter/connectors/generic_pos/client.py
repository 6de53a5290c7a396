"""Talking to the POS's REST endpoint; statuses map to retry classes via ``error_for_status``."""

from __future__ import annotations

import httpx

from expediter.plugin import TransientError, error_for_status


class PosClient:
    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(timeout=timeout, headers=headers, transport=transport)

    async def post_order(self, body: bytes, *, idempotency_key: str) -> httpx.Response:
        """POST one canonical order; the POS de-duplicates on ``Idempotency-Key``."""
        return await self.post(self.url, body, idempotency_key=idempotency_key)

    async def post(self, url: str, body: bytes, *, idempotency_key: str) -> httpx.Response:
        """POST JSON to the POS; the POS de-duplicates on ``Idempotency-Key``."""
        headers = {"Idempotency-Key": idempotency_key, "Content-Type": "application/json"}
        try:
            response = await self._http.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise TransientError(f"cannot reach the POS at {url}: {type(exc).__name__} {exc}") from None
        error = error_for_status(
            response.status_code, response.text[:200], location=response.headers.get("location")
        )
        if error is not None:
            if isinstance(error, TransientError):
                error.retry_after = _retry_after(response)
            raise error
        return response

    async def close(self) -> None:
        await self._http.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
