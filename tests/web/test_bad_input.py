"""Implausible values are refused at the door with 422 and their JSON path; bytes that are not
JSON at all are 400 with the reason; a system posts only for its own locations (403). Nothing
refused is stored."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest

from expediter.catalog.schema import Catalog
from expediter.engine.hub import Hub
from tests.clocks import SUITE_STARTED
from tests.engine.helpers import Board
from tests.web.conftest import API_TOKEN
from tests.web.test_api import WEBHOOK_KEY, run

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
AN_HOUR_AGO = (SUITE_STARTED - timedelta(hours=1)).isoformat()

Change = Callable[[dict[str, Any]], None]


def order() -> dict[str, Any]:
    """A plausible order as a POS sends it, an hour before the suite started."""
    return {
        "id": "o-1",
        "location_id": "L1",
        "opened_at": AN_HOUR_AGO,
        "lines": [
            {
                "id": "1",
                "name": "Burger",
                "quantity": "1",
                "unit_price": {"amount": 1250},
                "modifiers": [{"name": "Cheese", "unit_price": {"amount": 100}}],
            }
        ],
        "taxes": [{"name": "Sales tax", "amount": {"amount": 120}, "rate": "0.08875"}],
        "payments": [{"id": "p1", "tender": "card", "amount": {"amount": 1470}, "created_at": AN_HOUR_AGO}],
    }


def punch() -> dict[str, Any]:
    return {
        "id": "punch-1",
        "employee_id": "E1",
        "location_id": "L1",
        "job_code": "cook",
        "clock_in": AN_HOUR_AGO,
        "hourly_wage": {"amount": 1800},
    }


def at(path: str, value: Any) -> Change:
    """Set ``value`` at a dotted path (list indexes as numbers): ``at("lines.0.quantity", "NaN")``."""

    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = record
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


BAD_ORDERS = [
    (at("lines.0.quantity", "NaN"), "$.lines[0].quantity"),
    (at("lines.0.quantity", "Infinity"), "$.lines[0].quantity"),
    (at("lines.0.quantity", "-2"), "$.lines[0].quantity"),
    (at("lines.0.modifiers.0.quantity", "sNaN"), "$.lines[0].modifiers[0].quantity"),
    (at("lines.0.unit_price.amount", 10**30), "$.lines[0].unit_price.amount"),
    (at("lines.0.unit_price.amount", -1250), "$.lines[0].unit_price.amount"),
    (at("lines.0.modifiers.0.unit_price.amount", -100), "$.lines[0].modifiers[0].unit_price.amount"),
    (at("payments.0.amount.amount", 10**30), "$.payments[0].amount.amount"),
    (at("taxes.0.rate", "Infinity"), "$.taxes[0].rate"),
    (at("version", 0), "$.version"),
    (at("id", ""), "$.id"),
    (at("id", "x" * 10_000), "$.id"),
    (at("lines.0.id", ""), "$.lines[0].id"),
    (at("guest_count", -1), "$.guest_count"),
    (at("opened_at", "9999-12-31T23:00:00+00:00"), "$.opened_at"),
    (at("opened_at", "1970-01-01T00:00:00+00:00"), "$.opened_at"),
    (at("payments.0.created_at", "1970-01-01T00:00:00+00:00"), "$.payments[0].created_at"),
    (at("promised_at", "9999-01-01T12:00:00+00:00"), "$.promised_at"),
]


@pytest.mark.parametrize(("change", "where"), BAD_ORDERS, ids=[where for _, where in BAD_ORDERS])
def test_an_implausible_order_is_422_naming_the_path_and_is_not_stored(
    catalog: Catalog, change: Change, where: str
) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        bad = order()
        change(bad)
        response = await client.post("/api/v1/orders", json=bad, headers=AUTH)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["where"] == where and body["error"] and body["fix"]
        assert await hub.inbox.count() == 0
        good = await client.post("/api/v1/orders", json=order(), headers=AUTH)
        assert good.status_code == 202, good.text

    run(catalog, scenario)


def test_a_quantity_written_as_1e400_is_refused(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        body = msgspec.json.encode(order()).replace(b'"quantity":"1"', b'"quantity":1e400')
        response = await client.post("/api/v1/orders", content=body, headers=AUTH)
        assert response.status_code == 422, response.text
        assert response.json()["where"] == "$.lines[0].quantity"
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


BAD_PUNCHES = [
    (at("clock_in", "1970-01-01T00:00:00+00:00"), "$.clock_in"),
    (at("clock_out", "9999-01-01T00:00:00+00:00"), "$.clock_out"),
    (at("version", 0), "$.version"),
    (at("id", ""), "$.id"),
    (at("hourly_wage.amount", -1800), "$.hourly_wage.amount"),
    (at("hourly_wage.amount", 10**30), "$.hourly_wage.amount"),
    (at("breaks", [{"start": "1970-01-01T00:00:00+00:00"}]), "$.breaks[0].start"),
]


@pytest.mark.parametrize(("change", "where"), BAD_PUNCHES, ids=[where for _, where in BAD_PUNCHES])
def test_an_implausible_punch_is_422_naming_the_path(catalog: Catalog, change: Change, where: str) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        bad = punch()
        change(bad)
        response = await client.post("/api/v1/punches", json=bad, headers=AUTH)
        assert response.status_code == 422, response.text
        assert response.json()["where"] == where
        assert await hub.inbox.count() == 0
        assert (await client.post("/api/v1/punches", json=punch(), headers=AUTH)).status_code == 202

    run(catalog, scenario)


NOT_UTF8 = b'{"id": "o-1", "notes": "caf\xe9"}'  # Latin-1, not UTF-8
# An escape makes the card scan decode the whole body, nesting included.
DEEP = b'{"notes": "caf\\u00e9", "more": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"


@pytest.mark.parametrize(
    ("body", "error"),
    [(NOT_UTF8, "not valid UTF-8"), (DEEP, "nested too deeply")],
    ids=["invalid UTF-8", "deep JSON"],
)
@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/punches", "/api/v1/employees"])
def test_bytes_that_are_not_json_are_400_with_the_reason(
    catalog: Catalog, path: str, body: bytes, error: str
) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        response = await client.post(path, content=body, headers=AUTH)
        assert response.status_code == 400, response.text
        assert error in response.json()["error"] and response.json()["where"] == "body"
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def test_modifiers_nested_past_what_the_decoder_reads_are_400(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        deep = msgspec.json.encode(order()).replace(
            b'"modifiers":[{"name":"Cheese"',
            b'"modifiers":[' + b'{"name":"m","modifiers":[' * 5_000 + b"]}" * 5_000 + b',{"name":"Cheese"',
        )
        response = await client.post("/api/v1/orders", content=deep, headers=AUTH)
        assert response.status_code == 400, response.text
        assert "nested too deeply" in response.json()["error"]
        nested = msgspec.json.encode(order()).replace(
            b'"modifiers":[{"name":"Cheese"',
            b'"modifiers":[' + b'{"name":"m","modifiers":[' * 20 + b"]}" * 20 + b',{"name":"Cheese"',
        )
        response = await client.post("/api/v1/orders", content=nested, headers=AUTH)
        assert response.status_code == 422, response.text
        assert response.json()["where"].startswith("$.lines[0].modifiers[0].modifiers[0]")
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


@pytest.mark.parametrize("body", [NOT_UTF8, DEEP], ids=["invalid UTF-8", "deep JSON"])
def test_a_signed_webhook_that_is_not_json_is_400_and_not_stored(catalog: Catalog, body: bytes) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        url = "http://hub.test/api/v1/webhooks/shop"
        signature = hmac.new(WEBHOOK_KEY, url.encode() + body, hashlib.sha256).hexdigest()
        response = await client.post(url, content=body, headers={"X-Signature": signature})
        assert response.status_code == 400, response.text
        assert response.json()["where"] == "body"
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def limited(catalog: Catalog) -> Catalog:
    """The POS serves Downtown (L1) only."""
    catalog.systems[0] = msgspec.structs.replace(catalog.systems[0], locations=["L1"])
    return catalog


def test_a_system_limited_to_some_locations_cannot_post_orders_for_another(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        elsewhere = {**order(), "location_id": "L2"}
        response = await client.post("/api/v1/orders", json=elsewhere, headers=AUTH)
        assert response.status_code == 403, response.text
        body = response.json()
        assert "'pos'" in body["error"] and "'L2'" in body["error"] and body["where"] == "$.location_id"
        assert "L1" in body["fix"]
        assert await hub.inbox.count() == 0
        assert (await client.post("/api/v1/orders", json=order(), headers=AUTH)).status_code == 202

    run(limited(catalog), scenario)


def test_a_system_limited_to_some_locations_cannot_post_punches_or_staff_for_another(
    catalog: Catalog,
) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        shift = {**punch(), "location_id": "L2"}
        staff = {"id": "E1", "name": "Sam", "location_id": "L2"}
        for path, body in (("/api/v1/punches", shift), ("/api/v1/employees", staff)):
            response = await client.post(path, json=body, headers=AUTH)
            assert response.status_code == 403, response.text
            assert "'L2'" in response.json()["error"] and "'pos'" in response.json()["error"]
        assert await hub.inbox.count() == 0

    run(limited(catalog), scenario)
