"""One order or punch version is one message however it arrives (with an Idempotency-Key, without
one, with another); a key, or a version, already used for other content is a 409."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from expediter.catalog.schema import Catalog
from expediter.engine.hub import Hub
from tests.clocks import SUITE_STARTED
from tests.engine.helpers import Board
from tests.web.conftest import API_TOKEN
from tests.web.test_api import run

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
OPENED = (SUITE_STARTED - timedelta(minutes=30)).isoformat()


def order(order_id: str = "o-1", version: int = 1, price: int = 1250) -> dict[str, Any]:
    return {
        "id": order_id,
        "version": version,
        "location_id": "L1",
        "opened_at": OPENED,
        "lines": [{"id": "1", "name": "Burger", "quantity": "1", "unit_price": {"amount": price}}],
    }


def punch(punch_id: str = "punch-1", job: str = "cook") -> dict[str, Any]:
    return {"id": punch_id, "employee_id": "E1", "location_id": "L1", "job_code": job, "clock_in": OPENED}


def keyed(key: str) -> dict[str, str]:
    return {**AUTH, "Idempotency-Key": key}


def test_one_order_version_with_a_key_and_again_without_is_one_message(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        first = await client.post("/api/v1/orders", json=order(), headers=keyed("pos-77"))
        again = await client.post("/api/v1/orders", json=order(), headers=AUTH)
        other_key = await client.post("/api/v1/orders", json=order(), headers=keyed("pos-78"))
        assert (first.status_code, again.status_code, other_key.status_code) == (202, 200, 200)
        assert first.json()["message_id"] == again.json()["message_id"] == other_key.json()["message_id"]
        assert again.json()["duplicate"] is True
        # and the other way round: first without a key, then with one
        plain = await client.post("/api/v1/orders", json=order("o-2"), headers=AUTH)
        with_key = await client.post("/api/v1/orders", json=order("o-2"), headers=keyed("pos-79"))
        assert (plain.status_code, with_key.status_code) == (202, 200)
        assert plain.json()["message_id"] == with_key.json()["message_id"]
        assert await hub.inbox.count() == 2
        assert len(await hub.deliveries.records()) == 2  # one delivery each to the kitchen

    run(catalog, scenario)


def test_a_key_reused_for_a_changed_order_is_409(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        first = await client.post("/api/v1/orders", json=order(), headers=keyed("pos-77"))
        assert first.status_code == 202
        for changed in (order(price=1500), order(version=2, price=1500)):
            reused = await client.post("/api/v1/orders", json=changed, headers=keyed("pos-77"))
            assert reused.status_code == 409, reused.text
            body = reused.json()
            assert body["where"] == "headers.Idempotency-Key" and "already used" in body["error"]
            assert body["fix"]
        assert await hub.inbox.count() == 1
        retry = await client.post("/api/v1/orders", json=order(), headers=keyed("pos-77"))
        assert retry.status_code == 200 and retry.json()["message_id"] == first.json()["message_id"]

    run(catalog, scenario)


def test_one_version_sent_again_with_other_content_is_409(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        assert (await client.post("/api/v1/orders", json=order(), headers=AUTH)).status_code == 202
        changed = await client.post("/api/v1/orders", json=order(price=1500), headers=AUTH)
        assert changed.status_code == 409, changed.text
        assert changed.json()["where"] == "$.version" and "higher version" in changed.json()["fix"]
        newer = await client.post("/api/v1/orders", json=order(version=2, price=1500), headers=AUTH)
        assert newer.status_code == 202
        assert await hub.inbox.count() == 2

    run(catalog, scenario)


def test_a_punch_reusing_another_punchs_key_is_409(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        first = await client.post("/api/v1/punches", json=punch(), headers=keyed("shift-1"))
        other = await client.post("/api/v1/punches", json=punch("punch-2"), headers=keyed("shift-1"))
        assert (first.status_code, other.status_code) == (202, 409), other.text
        assert other.json()["where"] == "headers.Idempotency-Key"
        # An order may not take a punch's key either: the key stands for that punch.
        order_reuse = await client.post("/api/v1/orders", json=order(), headers=keyed("shift-1"))
        assert order_reuse.status_code == 409
        # The punch without its key, and with another: the same message.
        plain = await client.post("/api/v1/punches", json=punch(), headers=AUTH)
        assert plain.status_code == 200 and plain.json()["message_id"] == first.json()["message_id"]
        changed = await client.post("/api/v1/punches", json=punch(job="dish"), headers=AUTH)
        assert changed.status_code == 409 and changed.json()["where"] == "$.version"
        assert await hub.inbox.count() == 1

    run(catalog, scenario)


def test_a_key_that_holds_a_card_number_is_refused_and_not_echoed(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        for path, body in (("/api/v1/orders", order()), ("/api/v1/punches", punch())):
            response = await client.post(path, json=body, headers=keyed("pay-4111-1111-1111-1111"))
            assert response.status_code == 422, response.text
            assert response.json()["where"] == "headers.Idempotency-Key"
            assert "4111" not in response.text
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def test_a_key_longer_than_an_id_is_refused(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        response = await client.post("/api/v1/orders", json=order(), headers=keyed("k" * 10_000))
        assert response.status_code == 422 and response.json()["where"] == "headers.Idempotency-Key"
        assert "10000 characters" in response.json()["error"]
        assert await hub.inbox.count() == 0

    run(catalog, scenario)
