from __future__ import annotations

import asyncio

import httpx
import msgspec

from expediter.model.order import Order
from expediter.sim.config import SimConfig
from expediter.sim.day import iter_orders
from expediter.sim.post import PostOutcome, idempotency_key, orders_endpoint, post_orders
from tests.sim.places import DAY, NEW_YORK
from tests.sim.receiver import TOKEN, Receiver, running


def _orders() -> list[Order]:
    return list(iter_orders(NEW_YORK, DAY, seed=9, scale=0.03, config=SimConfig(updated_versions=True)))


def test_orders_reach_a_real_server_with_their_idempotency_keys_then_count_as_duplicates() -> None:
    orders = _orders()
    outcomes: list[PostOutcome] = []
    with running(Receiver()) as receiver:
        first = asyncio.run(post_orders(receiver.url, TOKEN, orders, rate=0, on_result=outcomes.append))
        again = asyncio.run(post_orders(receiver.url + "/api/v1/orders", TOKEN, iter(orders), rate=500))
    assert (first.accepted, first.duplicate, first.rejected, first.failed) == (len(orders), 0, 0, 0)
    assert (again.accepted, again.duplicate) == (0, len(orders))
    assert len(outcomes) == len(orders)
    assert sorted(receiver.keys) == sorted(idempotency_key(order) for order in orders)
    sample = orders[0]
    assert msgspec.json.encode(receiver.orders[f"{sample.id}:v1"]) == msgspec.json.encode(sample)


def test_refused_orders_and_a_bad_token_are_counted_as_rejected() -> None:
    orders = _orders()[:10]
    refused = orders[3].id
    with running(Receiver(refuse=frozenset({refused}))) as receiver:
        report = asyncio.run(post_orders(receiver.url, TOKEN, orders, rate=0, concurrency=2))
        unauthorized = asyncio.run(post_orders(receiver.url, "wrong", orders[:2], rate=0))
    assert (report.accepted, report.rejected) == (9, 1)
    assert report.errors and refused in report.errors[0] and "422" in report.errors[0]
    assert unauthorized.rejected == 2
    assert all("wrong" not in error for error in unauthorized.errors)


def test_a_busy_hub_is_retried_and_a_dead_one_is_reported_failed() -> None:
    attempts: dict[str, int] = {}

    def flaky(request: httpx.Request) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        attempts[key] = attempts.get(key, 0) + 1
        return httpx.Response(202 if attempts[key] > 1 else 503)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    orders = _orders()[:3]
    ok = asyncio.run(post_orders("http://hub", TOKEN, orders, 0, transport=httpx.MockTransport(flaky)))
    dead = asyncio.run(
        post_orders("http://hub", TOKEN, orders[:1], 0, retries=1, transport=httpx.MockTransport(down))
    )
    assert ok.accepted == 3 and set(attempts.values()) == {2}
    assert dead.failed == 1 and "ConnectError" in dead.errors[0]


def test_the_endpoint_is_found_from_a_base_url() -> None:
    assert orders_endpoint("http://h:8000/") == "http://h:8000/api/v1/orders"
    assert orders_endpoint("http://h:8000/api/v1/orders") == "http://h:8000/api/v1/orders"
