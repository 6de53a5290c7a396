"""The ingest API over the real HTTP stack (httpx → Starlette app → hub → SQLite on disk)."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import structlog

from expediter.catalog.schema import Catalog
from expediter.engine.hub import Hub
from expediter.model.cards import must_scan_decoded
from expediter.model.money import Money
from expediter.model.order import Line, Modifier, Order, Payment, TenderType
from expediter.plugin.base import (
    Capability,
    Connector,
    ConnectorContext,
    IncomingMessage,
    SignatureInvalid,
)
from expediter.sim.ports import free_port
from expediter.web.api import BENCH_ENV
from expediter.web.app import CONFIG_ENV, create_app
from tests.engine.helpers import TEST_CONNECTORS, Board
from tests.processes import serve_catalog, serve_command, wait_healthy
from tests.web.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
WEBHOOK_KEY = b"shop-signing-key"
CARD = "4111 1111 1111 1111"


class SignedWebhook:
    """A product whose webhooks carry an HMAC of the URL and body (like Square's)."""

    def verify(self, headers: Mapping[str, str], body: bytes, url: str) -> None:
        expected = hmac.new(WEBHOOK_KEY, url.encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-signature", "")):
            raise SignatureInvalid("HMAC mismatch", hint="the URL signed must be the hub's public URL")

    def messages(self, headers: Mapping[str, str], body: bytes) -> list[IncomingMessage]:
        event = msgspec.json.decode(body)
        return [
            IncomingMessage(
                source_system="shop",
                kind="online.order",
                idempotency_key=f"shop:{event['event_id']}",
                payload=body,
            )
        ]


def _webhook(context: ConnectorContext) -> SignedWebhook:
    return SignedWebhook()


CONNECTORS = {
    **TEST_CONNECTORS,
    "test_webhook": Connector(
        name="test_webhook",
        title="Signed webhooks",
        capabilities=frozenset({Capability.WEBHOOK}),
        make_webhook=_webhook,
    ),
}


def sample_order(order_id: str = "o-1", location: str = "L1", **changes: Any) -> Order:
    order = Order(
        id=order_id,
        location_id=location,
        opened_at=datetime(2026, 3, 14, 7, 30, tzinfo=UTC),  # 03:30 in New York: yesterday's business
        lines=[
            Line(
                id="l1",
                name="Burger",
                quantity=Decimal(1),
                unit_price=Money(1250),
                modifiers=[
                    Modifier(name="Cheese", unit_price=Money(100)),
                    Modifier(name="Bacon", quantity=Decimal(2), unit_price=Money(150)),
                ],
            ),
        ],
        payments=[
            Payment(id="p1", tender=TenderType.CARD, amount=Money(1650), card_brand="visa", last4="1111")
        ],
    )
    return msgspec.structs.replace(order, **changes)


@asynccontextmanager
async def running(catalog: Catalog) -> AsyncIterator[tuple[Hub, httpx.AsyncClient, Board]]:
    board = Board()
    hub = Hub(catalog, connectors=CONNECTORS)
    hub.services.extra["board"] = board
    app = create_app(hub, manage_hub=False)
    await hub.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield hub, client, board
    finally:
        await hub.stop()


def run(catalog: Catalog, scenario: Callable[[Hub, httpx.AsyncClient, Board], Awaitable[None]]) -> None:
    async def main() -> None:
        async with running(catalog) as (hub, client, board):
            await scenario(hub, client, board)

    asyncio.run(main())


def test_order_is_stored_then_acknowledged_and_a_repeat_is_a_duplicate(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        body = msgspec.json.encode(sample_order())
        first = await client.post("/api/v1/orders", content=body, headers=AUTH)
        assert first.status_code == 202, first.text
        accepted = first.json()
        assert accepted["duplicate"] is False and accepted["idempotency_key"] == "pos:o-1:1"
        assert accepted["business_date"] == "2026-03-13"  # the location's clock, not UTC's date

        again = await client.post("/api/v1/orders", content=body, headers=AUTH)
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert again.json()["message_id"] == accepted["message_id"]
        assert await hub.inbox.count() == 1

        stored = await client.get("/api/v1/orders/o-1", headers=AUTH)
        assert stored.status_code == 200
        order = msgspec.json.decode(stored.content, type=Order)
        assert order.business_date.isoformat() == "2026-03-13" and order.source_system == "pos"
        assert (await client.get("/api/v1/orders/nope", headers=AUTH)).status_code == 404

    run(catalog, scenario)


def test_idempotency_key_header_is_honoured(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        headers = {**AUTH, "Idempotency-Key": "pos-event-77"}
        one = await client.post(
            "/api/v1/orders", content=msgspec.json.encode(sample_order("a")), headers=headers
        )
        retry = await client.post(
            "/api/v1/orders", content=msgspec.json.encode(sample_order("a")), headers=headers
        )
        other = await client.post(
            "/api/v1/orders", content=msgspec.json.encode(sample_order("b")), headers=headers
        )
        assert (one.status_code, retry.status_code) == (202, 200)
        assert one.json()["idempotency_key"] == "pos-event-77"
        # The same key for another order is the sender's mistake: refused, not silently dropped.
        assert other.status_code == 409 and other.json()["where"] == "headers.Idempotency-Key"
        assert await hub.inbox.count() == 1

    run(catalog, scenario)


def test_accepted_order_is_delivered_to_the_flows_destination(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        response = await client.post(
            "/api/v1/orders", content=msgspec.json.encode(sample_order()), headers=AUTH
        )
        assert response.status_code == 202
        from tests.engine.helpers import eventually

        await eventually(lambda: len(board.delivered_to("kds")) == 1)
        [item] = board.delivered_to("kds")
        [record] = await hub.deliveries.records(flow_id="pos-kds")
        assert record.message_id == response.json()["message_id"]
        assert item.delivery_key == record.delivery_key and item.delivery_key.startswith("pos-kds:")

    run(catalog, scenario)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic abc"}, 401),
        ({"Authorization": "Bearer wrong"}, 403),
        ({"Authorization": "Bearer token-for-the-shop"}, 403),
    ],
)
def test_tokens(catalog: Catalog, headers: dict[str, str], status: int) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        body = msgspec.json.encode(sample_order(source_system="pos"))
        response = await client.post("/api/v1/orders", content=body, headers=headers)
        assert response.status_code == status
        assert set(response.json()) == {"error", "where", "fix"}
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def test_bad_json_is_400(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        response = await client.post("/api/v1/orders", content=b'{"id": "o-1", ', headers=AUTH)
        assert response.status_code == 400
        assert "not valid JSON" in response.json()["error"]
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def test_wrong_type_deep_in_a_modifier_names_its_path(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        order = msgspec.to_builtins(sample_order())
        order["lines"][0]["modifiers"][1]["quantity"] = {"two": 2}
        response = await client.post("/api/v1/orders", json=order, headers=AUTH)
        assert response.status_code == 422
        body = response.json()
        assert body["where"] == "$.lines[0].modifiers[1].quantity"
        assert "decimal" in body["error"] and body["fix"]
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def test_card_number_is_refused_and_never_stored_answered_or_logged(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        order = msgspec.to_builtins(sample_order())
        order["payments"][0]["reference"] = CARD
        with structlog.testing.capture_logs() as logs:
            response = await client.post("/api/v1/orders", json=order, headers=AUTH)
        assert response.status_code == 422
        assert response.json()["where"] == "$.payments[0].reference"
        digits = CARD.replace(" ", "")
        assert CARD not in response.text and digits not in response.text
        assert digits not in repr(logs) and CARD not in repr(logs)
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def test_a_card_number_hidden_in_escapes_or_fullwidth_digits_is_refused(catalog: Catalog) -> None:
    """The raw bytes of these hold no run of ASCII digits: only their decoded values show the card.
    An order that merely has accents in it is still accepted."""
    escaped = "".join(f"\\u{ord(c):04x}" for c in "4111111111111111")
    fullwidth = "".join(chr(0xFF10 + int(c)) for c in "4111111111111111")

    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        spaced = "\u00a0".join(("4111", "1111", "1111", "1111"))  # no-break spaces
        for hidden, where in ((escaped, "$.notes"), (fullwidth, "$.lines[0].notes"), (spaced, "$.notes")):
            order = msgspec.to_builtins(sample_order())
            order["notes" if where == "$.notes" else "lines"] = (
                "__NOTE__" if where == "$.notes" else [{**order["lines"][0], "notes": "__NOTE__"}]
            )
            body = msgspec.json.encode(order).replace(b"__NOTE__", hidden.encode())
            response = await client.post("/api/v1/orders", content=body, headers=AUTH)
            assert response.status_code == 422, response.text
            assert response.json()["where"] == where
            assert "4111111111111111" not in response.text and hidden not in response.text
        assert await hub.inbox.count() == 0
        accented = sample_order(
            lines=[Line(id="1", name="Jalapeño poppers", quantity=Decimal(1), unit_price=Money(900))]
        )
        response = await client.post("/api/v1/orders", content=msgspec.json.encode(accented), headers=AUTH)
        assert response.status_code == 202, response.text

    run(catalog, scenario)


def test_only_bodies_that_could_hide_a_card_from_the_byte_scan_are_decoded_for_it() -> None:
    assert not must_scan_decoded(b'{"notes": "4111 1111 table 12"}')  # ASCII: the byte scan sees all
    assert not must_scan_decoded('{"name": "Jalapeño poppers", "notes": "crème brûlée"}'.encode())
    assert must_scan_decoded('{"notes": "\uff14\uff11"}'.encode())  # fullwidth digits
    assert must_scan_decoded('{"notes": "4111\u00a01111"}'.encode())  # a no-break space
    assert must_scan_decoded(b'{"notes": "\\u0034111"}')  # a JSON escape


def test_unknown_location_is_422(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        body = msgspec.json.encode(sample_order(location="nowhere"))
        response = await client.post("/api/v1/orders", content=body, headers=AUTH)
        assert response.status_code == 422
        assert response.json()["where"] == "$.location_id"
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def test_signed_webhook_is_stored_once_and_a_bad_signature_is_401_and_kept(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        url = "http://hub.test/api/v1/webhooks/shop"
        body = b'{"event_id": "ev-1", "total": 1200}'
        good = hmac.new(WEBHOOK_KEY, url.encode() + body, hashlib.sha256).hexdigest()
        first = await client.post("/api/v1/webhooks/shop", content=body, headers={"X-Signature": good})
        assert first.status_code == 202 and first.json()["duplicate"] is False
        again = await client.post("/api/v1/webhooks/shop", content=body, headers={"X-Signature": good})
        assert again.status_code == 200 and again.json()["duplicate"] is True

        bad = await client.post("/api/v1/webhooks/shop", content=body, headers={"X-Signature": "0" * 64})
        assert bad.status_code == 401
        assert bad.json()["fix"] == "the URL signed must be the hub's public URL"
        [failure] = hub.signature_failures["shop"]
        assert failure.hint == "the URL signed must be the hub's public URL"

        assert (await client.post("/api/v1/webhooks/ghost", content=body)).status_code == 404
        assert (await client.post("/api/v1/webhooks/kds", content=body)).status_code == 404
        assert await hub.inbox.count() == 1

    run(catalog, scenario)


def test_health_and_openapi(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        assert (await client.get("/healthz")).json()["status"] == "ok"
        document = (await client.get("/openapi.json")).json()
        assert "/api/v1/orders" in document["paths"]
        assert {"Order", "Modifier", "OrderAccepted", "ErrorBody"} <= set(document["components"]["schemas"])

    run(catalog, scenario)


def test_reading_an_order_needs_a_token(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        await client.post("/api/v1/orders", content=msgspec.json.encode(sample_order()), headers=AUTH)
        assert (await client.get("/api/v1/orders/o-1")).status_code == 401
        assert (await client.get("/api/v1/orders/o-1", headers=AUTH)).status_code == 200

    run(catalog, scenario)


def test_webhook_carrying_a_card_number_is_refused_and_not_stored(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        url = "http://hub.test/api/v1/webhooks/shop"
        body = b'{"event_id": "ev-9", "card": "4111-1111-1111-1111"}'
        signature = hmac.new(WEBHOOK_KEY, url.encode() + body, hashlib.sha256).hexdigest()
        response = await client.post(
            "/api/v1/webhooks/shop", content=body, headers={"X-Signature": signature}
        )
        assert response.status_code == 422 and response.json()["where"] == "$.card"
        assert "4111" not in response.text
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def test_app_collects_only_the_web_modules_that_exist(catalog: Catalog) -> None:
    from expediter.web.app import collect_routes

    hub = Hub(catalog, connectors=CONNECTORS)
    paths = {getattr(r, "path", "") for r in collect_routes(hub, ("expediter.web.api", "expediter.web.nope"))}
    assert {"/api/v1/orders", "/healthz", "/openapi.json"} <= paths


def test_a_served_app_takes_its_start_up_heap_out_of_the_collectors_sight(catalog: Catalog) -> None:
    """``expediter serve`` (``whole_process``) freezes what start-up built, so the collector's full
    passes stop walking it; an app built in a test (many per process) does not."""

    async def main() -> None:
        for whole_process in (False, True):
            hub = Hub(catalog, connectors=CONNECTORS)
            app = create_app(hub, whole_process=whole_process)
            before = gc.get_freeze_count()
            async with app.router.lifespan_context(app):
                assert hub.started
                frozen = gc.get_freeze_count() - before
                collectable = any(thing is hub for thing in gc.get_objects())
            if whole_process:
                assert frozen > 1000 and not collectable
            else:
                assert frozen == 0 and collectable

    try:
        asyncio.run(main())
    finally:
        gc.unfreeze()


def test_keys_are_per_system_and_a_late_older_version_never_wins(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        shop = {"Authorization": "Bearer token-for-the-shop", "Idempotency-Key": "k-1"}
        mine = {**AUTH, "Idempotency-Key": "k-1"}
        from_shop = await client.post(
            "/api/v1/orders",
            content=msgspec.json.encode(sample_order("s-1", source_system="shop")),
            headers=shop,
        )
        from_pos = await client.post(
            "/api/v1/orders", content=msgspec.json.encode(sample_order("p-1")), headers=mine
        )
        assert (from_shop.status_code, from_pos.status_code) == (202, 202)

        for version in (1, 3, 2):  # version 2 is a late retry
            body = msgspec.json.encode(sample_order("o-5", version=version))
            assert (await client.post("/api/v1/orders", content=body, headers=AUTH)).status_code == 202
        got = await client.get("/api/v1/orders/o-5", headers=AUTH)
        assert got.status_code == 200 and got.json()["version"] == 3
        hidden = await client.get(
            "/api/v1/orders/p-1", headers={"Authorization": "Bearer token-for-the-shop"}
        )
        assert hidden.status_code == 404  # the shop's token does not read the POS's orders

    run(catalog, scenario)


def test_a_body_over_one_mebibyte_is_refused_before_it_is_read(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        huge = b'{"id": "' + b"x" * 1_100_000 + b'"}'
        for path in ("/api/v1/orders", "/api/v1/webhooks/shop", "/api/v1/punches"):
            response = await client.post(path, content=huge, headers=AUTH)
            assert response.status_code == 413 and "1 MiB" in response.json()["error"], path
        assert await hub.inbox.count() == 0

    run(catalog, scenario)


def test_serve_with_two_workers_answers_from_two_processes_and_stores_durably(tmp_path: Path) -> None:
    """``expediter serve --workers 2``: each worker binds its own SO_REUSEPORT socket on the same
    port, so new connections reach both processes; both store into the one database."""
    port = free_port()
    command = serve_command(serve_catalog(tmp_path, API_TOKEN), port, workers=2)
    env = {**os.environ, BENCH_ENV: "1"}  # adds /api/v1/_bench/storage, which names the pid
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        pids: set[int] = set()
        for n in range(200):  # a new connection each time: the kernel spreads them by hash
            order = msgspec.json.encode(sample_order(f"w-{n}"))
            with httpx.Client(base_url=base, timeout=10) as client:
                assert client.post("/api/v1/orders", content=order, headers=AUTH).status_code == 202
                pids.add(client.get("/api/v1/_bench/storage").json()["pid"])
            if len(pids) == 2 and n >= 20:
                break
        assert len(pids) == 2 and process.pid not in pids
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0
    with sqlite3.connect(tmp_path / "hub.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == n + 1


def test_uvicorn_factory_serves_the_hub_named_in_the_environment(tmp_path: Path) -> None:
    """``uvicorn --factory expediter.web.app:app_from_env`` (for those who run uvicorn themselves):
    the process loads the catalog named by ``EXPEDITER_CATALOG`` and stores what it accepts."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "expediter.web.app:app_from_env"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    config = serve_catalog(tmp_path, API_TOKEN)
    process = subprocess.Popen(command, env={**os.environ, CONFIG_ENV: str(config)})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        with httpx.Client(base_url=base, timeout=10) as client:
            order = msgspec.json.encode(sample_order("factory-1"))
            assert client.post("/api/v1/orders", content=order, headers=AUTH).status_code == 202
            stored = client.get("/api/v1/orders/factory-1", headers=AUTH)
            assert stored.status_code == 200 and stored.json()["id"] == "factory-1"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    # uvicorn shuts down cleanly, then re-raises the SIGTERM that stopped it
    assert process.returncode == -signal.SIGTERM
    with sqlite3.connect(tmp_path / "hub.db") as conn:
        assert conn.execute("SELECT ref FROM messages").fetchall() == [("factory-1",)]
