"""Stream simulated checks to a running hub's ``POST /api/v1/orders``, at a steady rate.

Each check is sent once per version with ``Idempotency-Key: <order id>:v<version>``, so re-running
the same simulation against the same hub counts duplicates instead of double-counting sales. The
hub's answer is sorted by :func:`expediter.errors.error_for_status`: success (202 accepted, 200
duplicate), transient (retried with backoff, honouring ``Retry-After``) or terminal (rejected).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from enum import StrEnum

import httpx
import msgspec

from expediter.errors import TransientError, error_for_status
from expediter.model.order import Order

ORDERS_PATH = "/api/v1/orders"
_ENCODER = msgspec.json.Encoder()
_MAX_ERRORS_KEPT = 5


class PostOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    FAILED = "failed"
    """Still transient after every retry (hub down, 5xx, timeouts)."""


class PostReport(msgspec.Struct, kw_only=True):
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    failed: int = 0
    errors: list[str] = []
    """The first few problems, e.g. ``L001-20261127-0042:v1 → HTTP 422: ...`` (never the token)."""

    @property
    def sent(self) -> int:
        return self.accepted + self.duplicate + self.rejected + self.failed

    def count(self, outcome: PostOutcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


def idempotency_key(order: Order) -> str:
    """The same check and version always gets the same key, across runs and machines."""
    return f"{order.id}:v{order.version}"


def orders_endpoint(url: str) -> str:
    """Accept the hub's base URL or the full endpoint URL."""
    url = url.rstrip("/")
    return url if url.endswith(ORDERS_PATH) else url + ORDERS_PATH


class _Pacer:
    """Hands out send slots ``1/rate`` seconds apart; ``rate <= 0`` means as fast as possible."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_slot = time.monotonic()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self.next_slot)
        self.next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


async def _as_async(orders: Iterable[Order] | AsyncIterable[Order]) -> AsyncIterator[Order]:
    if isinstance(orders, AsyncIterable):
        async for order in orders:
            yield order
    else:
        for order in orders:
            yield order


def _is_duplicate(response: httpx.Response) -> bool:
    if response.status_code == 200:
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("duplicate") is True


class _Sender:
    def __init__(self, client: httpx.AsyncClient, endpoint: str, token: str, retries: int) -> None:
        self.client = client
        self.endpoint = endpoint
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.retries = retries

    async def send(self, order: Order, report: PostReport) -> PostOutcome:
        key = idempotency_key(order)
        body = _ENCODER.encode(order)
        for attempt in range(self.retries + 1):
            try:
                response = await self.client.post(
                    self.endpoint, content=body, headers={**self.headers, "Idempotency-Key": key}
                )
            except httpx.HTTPError as exc:
                problem: str = f"{type(exc).__name__}"
                delay = 0.2 * 2**attempt
            else:
                error = error_for_status(
                    response.status_code, response.text[:200], location=response.headers.get("location")
                )
                if error is None:
                    return PostOutcome.DUPLICATE if _is_duplicate(response) else PostOutcome.ACCEPTED
                problem = str(error)
                if not isinstance(error, TransientError):
                    _keep(report, f"{key} → {problem}")
                    return PostOutcome.REJECTED
                delay = _retry_after(response) or 0.2 * 2**attempt
            if attempt < self.retries:
                await asyncio.sleep(delay)
        _keep(report, f"{key} → {problem} (gave up after {self.retries + 1} tries)")
        return PostOutcome.FAILED


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def _keep(report: PostReport, problem: str) -> None:
    if len(report.errors) < _MAX_ERRORS_KEPT:
        report.errors.append(problem)


async def post_orders(
    url: str,
    token: str,
    orders: Iterable[Order] | AsyncIterable[Order],
    rate: float = 50.0,
    *,
    concurrency: int = 4,
    retries: int = 3,
    timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
    on_result: Callable[[PostOutcome], None] | None = None,
) -> PostReport:
    """POST every order to the hub at ``url`` at about ``rate`` orders per second.

    ``concurrency`` connections send in parallel; ``transport`` replaces the network (tests);
    ``on_result`` is called after each order (progress bars).
    """
    report = PostReport()
    pacer = _Pacer(rate)
    source = _as_async(orders)
    lock = asyncio.Lock()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(transport=transport, timeout=timeout, limits=limits) as client:
        sender = _Sender(client, orders_endpoint(url), token, retries)

        async def worker() -> None:
            while True:
                async with lock:
                    order = await anext(source, None)
                    if order is None:
                        return
                    await pacer.wait()
                outcome = await sender.send(order, report)
                report.count(outcome)
                if on_result is not None:
                    on_result(outcome)

        await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return report
