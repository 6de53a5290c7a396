"""The generic POS sink against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
import pytest

from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.connectors.generic_pos.connector import CONNECTOR
from expediter.errors import TerminalError, TransientError
from expediter.model.money import Money
from expediter.model.order import Line, Order
from expediter.plugin.base import ConnectorContext, Outbound
from expediter.sim.ports import free_port


class PosServer:
    """A stand-in POS: answers each POST with the next scripted status, records what it got."""

    def __init__(self) -> None:
        self.statuses: list[tuple[int, dict[str, str]]] = []
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                status, headers = outer.statuses.pop(0) if outer.statuses else (201, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/orders"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def pos_server() -> Iterator[PosServer]:
    server = PosServer()
    server.thread.start()
    yield server
    server.close()


def outbound() -> Outbound:
    order = Order(
        id="o-9",
        location_id="L1",
        opened_at=datetime(2026, 3, 14, 18, 0, tzinfo=UTC),
        lines=[Line(id="l1", name="Fries", quantity=Decimal(2), unit_price=Money(450))],
    )
    return Outbound(
        delivery_id=3,
        delivery_key="online-pos:17",
        message_id=17,
        flow_id="online-pos",
        destination="pos",
        location_id="L1",
        kind="orders",
        payload=msgspec.json.encode(order),
        content_type="application/json",
        attempt=1,
    )


def sink_for(url: str, **settings: Any) -> Any:
    system = System(
        id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops", settings={"url": url, **settings}
    )
    return CONNECTOR.make_sink(ConnectorContext(catalog=Catalog(systems=[system]), system=system))


def test_posts_the_order_with_the_delivery_key_and_token(
    pos_server: PosServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POS_TOKEN", "s3cret")
    item = outbound()
    receipt = asyncio.run(sink_for(pos_server.url, token="env:POS_TOKEN").deliver(item))
    [(headers, body)] = pos_server.requests
    assert headers["Idempotency-Key"] == "online-pos:17"
    assert headers["Authorization"] == "Bearer s3cret"
    assert body == item.payload
    assert receipt.bytes == len(body) and receipt.checksum.startswith("sha256:")


def test_statuses_map_to_retry_classes(pos_server: PosServer) -> None:
    pos_server.statuses = [(503, {"Retry-After": "7"}), (429, {}), (400, {}), (401, {})]
    sink = sink_for(pos_server.url)

    async def scenario() -> None:
        with pytest.raises(TransientError) as busy:
            await sink.deliver(outbound())
        assert busy.value.retry_after == 7.0
        with pytest.raises(TransientError):
            await sink.deliver(outbound())
        with pytest.raises(TerminalError, match="HTTP 400"):
            await sink.deliver(outbound())
        with pytest.raises(TerminalError, match="HTTP 401"):
            await sink.deliver(outbound())

    asyncio.run(scenario())


def test_unreachable_pos_is_transient() -> None:
    url = f"http://127.0.0.1:{free_port()}/api/orders"  # a port nobody listens on
    with pytest.raises(TransientError, match="cannot reach the POS"):
        asyncio.run(sink_for(url).deliver(outbound()))


def test_a_stored_message_that_is_not_an_order_is_terminal(pos_server: PosServer) -> None:
    item = msgspec.structs.replace(outbound(), payload=b'{"not": "an order"}')
    with pytest.raises(TerminalError, match="not a canonical order"):
        asyncio.run(sink_for(pos_server.url).deliver(item))
    assert pos_server.requests == []


def test_missing_url_is_terminal() -> None:
    with pytest.raises(TerminalError, match=r"settings\.url"):
        sink_for("")


def test_ready_status_goes_to_the_status_url_for_the_pos_own_checks_only(pos_server: PosServer) -> None:
    sink = sink_for(pos_server.url, status_url=pos_server.url)
    ready = {"order_id": "pos-o-9", "external_id": "9", "status": "ready", "source_system": "pos"}
    item = msgspec.structs.replace(
        outbound(), kind="ticket_status", delivery_key="ready:1", payload=msgspec.json.encode(ready)
    )
    receipt = asyncio.run(sink.deliver(item))
    [(headers, body)] = pos_server.requests
    assert headers["Idempotency-Key"] == "ready:1" and msgspec.json.decode(body) == ready
    assert receipt.records == 1
    online = msgspec.structs.replace(item, payload=msgspec.json.encode(ready | {"source_system": "online"}))
    skipped = asyncio.run(sink.deliver(online))
    assert skipped.records == 0 and len(pos_server.requests) == 1


def test_status_without_a_status_url_is_terminal(pos_server: PosServer) -> None:
    item = msgspec.structs.replace(outbound(), kind="ticket_status", payload=b'{"order_id": "o-9"}')
    with pytest.raises(TerminalError, match=r"status_url"):
        asyncio.run(sink_for(pos_server.url).deliver(item))


def test_a_pos_that_redirects_gets_a_dead_letter_not_a_delivery(
    pos_server: PosServer, tmp_path: Any, database: str
) -> None:
    """Through the whole hub: the ledger says dead (never succeeded) and names where the POS points."""
    from expediter.catalog.schema import Hub as HubSettings
    from expediter.engine.hub import Hub
    from expediter.ledger import TransferOutcome
    from tests.engine.helpers import TEST_CONNECTORS, eventually, flow, order_message, system

    moved = "https://pos.example/api/v2/orders"
    pos_server.statuses = [(308, {"Location": moved})]
    catalog = Catalog(
        hub=HubSettings(database=database, data_dir=str(tmp_path / "data")),
        systems=[
            system("till", "test_source", SystemKind.POS),
            System(
                id="pos",
                kind=SystemKind.POS,
                connector="generic_pos",
                owner="ops",
                settings={"url": pos_server.url},
            ),
        ],
        flows=[flow("till-pos", "till", "pos")],
    )

    async def scenario() -> None:
        async with Hub(catalog, connectors=TEST_CONNECTORS) as hub:
            message = order_message(1)
            await hub.inbox.accept(
                msgspec.structs.replace(message, source_system="till", payload=outbound().payload)
            )

            async def dead() -> bool:
                return len(await hub.deliveries.dead_letters()) == 1

            await eventually(dead)
            [letter] = await hub.deliveries.dead_letters()
            assert "HTTP 308" in letter.last_error and moved in letter.last_error
            outcomes = [t.outcome for t in await hub.ledger.transfers(flow_id="till-pos")]
            assert outcomes == [TransferOutcome.DEAD]

    asyncio.run(scenario())
