"""The dashboard through the real HTTP stack (httpx → Starlette), reading a real SQLite ledger."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from expediter.catalog.load import load_catalog
from expediter.commands.catalog import starter_text
from expediter.engine.storage import open_storage
from expediter.ledger import Direction, Ledger, Transfer, TransferOutcome
from expediter.monitor.alerts import AlertKind
from expediter.monitor.metrics import Metrics
from expediter.monitor.routes import Alerting, AlertRouter
from expediter.web.dashboard import ago, routes


class DeadLetters:
    """Stands in for the engine's deliveries: only the dead-letter listing is read."""

    def __init__(self, count: int) -> None:
        self.count = count

    async def dead_letters(self) -> list[object]:
        return [object()] * self.count


def transfer(flow_id: str, outcome: TransferOutcome, at: datetime) -> Transfer:
    return Transfer(
        flow_id=flow_id,
        direction=Direction.OUT,
        level="realtime",
        transport="sse",
        started_at=at,
        finished_at=at,
        outcome=outcome,
    )


async def serve(hub: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=routes(hub))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        yield client


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    path = tmp_path / "expediter.toml"
    path.write_text(starter_text())
    return path


async def wired_hub(catalog_path: Path) -> tuple[SimpleNamespace, Any]:
    catalog = load_catalog(catalog_path)
    storage = open_storage(catalog_path.parent / "hub.db")
    await storage.start()
    ledger = Ledger(storage)
    now = datetime.now(UTC)
    await ledger.record(transfer("pos_orders_to_kds", TransferOutcome.SUCCEEDED, now - timedelta(minutes=5)))
    await ledger.record(transfer("online_orders_to_kds", TransferOutcome.DEAD, now - timedelta(minutes=2)))
    alerting = Alerting(AlertRouter(catalog, {}))
    await alerting.fire(
        AlertKind.DEAD_LETTER, "A ticket could not reach the KDS.", now, "online_orders_to_kds"
    )
    metrics = Metrics()
    metrics.transfers.labels(flow="pos_orders_to_kds", outcome="succeeded").inc(3)
    metrics.deliveries_pending.labels(destination="kds").set(2)
    hub = SimpleNamespace(
        catalog=catalog, ledger=ledger, deliveries=DeadLetters(4), alerting=alerting, metrics=metrics
    )
    return hub, storage


def test_index_shows_every_flow_with_health_owner_and_impact(catalog_path: Path) -> None:
    async def main() -> httpx.Response:
        hub, storage = await wired_hub(catalog_path)
        try:
            async for client in serve(hub):
                return await client.get("/")
        finally:
            await storage.stop()
        raise AssertionError("unreachable")

    response = run(main())
    assert response.status_code == 200
    html = response.text
    catalog = load_catalog(catalog_path)
    for flow in catalog.flows:
        assert f'id="flow-{flow.id}"' in html
    failing = html.split('id="flow-online_orders_to_kds"')[1].split("</tr>")[0]
    assert "badge health-failing" in failing
    assert "Impact:" in failing and "Takeout and delivery orders are not cooked" in failing
    healthy = html.split('id="flow-pos_orders_to_kds"')[1].split("</tr>")[0]
    assert "badge health-healthy" in healthy and "5 min ago" in healthy and "Impact:" not in healthy
    assert "Sam (chef de cuisine)" in healthy
    assert '<meta http-equiv="refresh"' in html
    assert 'id="dead-letters"><span class="count">4</span>' in html
    assert "A ticket could not reach the KDS." in html
    assert "https://" not in html.split("<main>")[0]  # no CDN: every asset from the hub


def test_index_renders_without_a_ledger(catalog_path: Path) -> None:
    hub = SimpleNamespace(catalog=load_catalog(catalog_path))

    async def main() -> httpx.Response:
        async for client in serve(hub):
            return await client.get("/")
        raise AssertionError("unreachable")

    response = run(main())
    assert response.status_code == 200
    assert "No ledger yet" in response.text


def test_diagram_page_has_the_svg_inline_and_the_mermaid_text(catalog_path: Path) -> None:
    async def main() -> tuple[httpx.Response, httpx.Response]:
        hub, storage = await wired_hub(catalog_path)
        try:
            async for client in serve(hub):
                return await client.get("/diagram"), await client.get("/diagram.svg")
        finally:
            await storage.stop()
        raise AssertionError("unreachable")

    page, svg = run(main())
    assert page.status_code == 200
    assert "<svg" in page.text and "flowchart LR" in page.text
    assert 'data-flow="online_orders_to_kds"' in page.text
    assert svg.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(svg.text)
    classes = {g.get("data-flow"): g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert "health-failing" in classes["online_orders_to_kds"]
    assert "health-healthy" in classes["pos_orders_to_kds"]


def test_metrics_exposes_the_registry(catalog_path: Path) -> None:
    async def main() -> httpx.Response:
        hub, storage = await wired_hub(catalog_path)
        try:
            async for client in serve(hub):
                return await client.get("/metrics")
        finally:
            await storage.stop()
        raise AssertionError("unreachable")

    response = run(main())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'expediter_transfers_total{flow="pos_orders_to_kds",outcome="succeeded"} 3.0' in response.text
    assert 'expediter_deliveries_pending{destination="kds"} 2.0' in response.text
    assert "# HELP expediter_messages_accepted_total" in response.text


def test_assets_are_served_by_the_hub(catalog_path: Path) -> None:
    hub = SimpleNamespace(catalog=load_catalog(catalog_path))

    async def main() -> list[httpx.Response]:
        async for client in serve(hub):
            return [
                await client.get("/static/dashboard/dashboard.css"),
                await client.get("/static/dashboard/dashboard.js"),
                await client.get("/static/dashboard/secrets.txt"),
            ]
        raise AssertionError("unreachable")

    css, js, other = run(main())
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert other.status_code == 404


def test_ago() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert ago(None, now) == "—"
    assert ago(now - timedelta(seconds=10), now) == "just now"
    assert ago(now - timedelta(minutes=5), now) == "5 min ago"
    assert ago(now - timedelta(hours=3), now) == "3 h ago"
    assert ago(now - timedelta(days=2), now) == "2 d ago"


def test_the_real_app_and_hub_serve_the_dashboard(catalog_path: Path) -> None:
    """Wired as ``expediter serve`` wires it: ``create_app`` collects these routes for the real Hub."""
    from expediter.engine.hub import Hub
    from expediter.web.app import create_app

    catalog = load_catalog(catalog_path)
    catalog.hub.database = str(catalog_path.parent / "real.db")
    hub = Hub(catalog, deliver=False)
    app = create_app(hub, manage_hub=False)

    async def main() -> httpx.Response:
        async with hub:
            now = datetime.now(UTC)
            await hub.ledger.record(transfer("kds_status_to_pos", TransferOutcome.FAILED, now))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                return await client.get("/")

    response = run(main())
    assert response.status_code == 200
    row = response.text.split('id="flow-kds_status_to_pos"')[1].split("</tr>")[0]
    assert "badge health-failing" in row
    assert 'id="dead-letters"><span class="count">0</span>' in response.text
