"""``/metrics`` over the real HTTP stack: every series moves with what it counts, parsed with
prometheus-client's own parser; a second hub process on the same database answers alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
from prometheus_client.parser import text_string_to_metric_families

from expediter.catalog.schema import ApiToken, Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.catalog.secrets import hash_token
from expediter.demo.run import serve_in_background, stop_server
from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError
from expediter.model.location import Location
from expediter.plugin.base import Outbound
from expediter.runtime import Runtime
from expediter.web.app import create_app
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually
from tests.operations.kitchen.helpers import order
from tests.web.signin import pair_screen

TOKEN = "metrics-test-token"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def catalog(tmp_path: Path, database: str | None = None) -> Catalog:
    def flow(flow_id: str, destination: str) -> Flow:
        return Flow(
            id=flow_id,
            from_="pos",
            to=destination,
            data="orders",
            level=Level.REALTIME,
            trigger=Trigger.EVENT,
            owner="chef",
        )

    return Catalog(
        hub=HubSettings(database=database or str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        locations=[Location(id="loc-1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(id="kds", kind=SystemKind.KDS, connector="kds", owner="chef"),
            System(id="printer", kind=SystemKind.PRINTER, connector="test_sink", owner="chef"),
        ],
        flows=[flow("pos-kds", "kds"), flow("pos-printer", "printer")],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
        mappings=Mappings(stations={"burgers": ["grill"]}),
    )


async def refuse_the_first(item: Outbound) -> None:
    if msgspec.json.decode(item.payload)["id"] == "o-1":
        raise TerminalError("HTTP 400: printer_grill rejects the ticket")


def parse(text: str) -> tuple[Samples, dict[str, str]]:
    """Every sample by (name, labels), and every family's type, read by prometheus-client."""
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, types


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    server, port = await serve_in_background(app, 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        await stop_server(server)


async def post(client: httpx.AsyncClient, order_id: str) -> int:
    body = msgspec.json.encode(msgspec.structs.replace(order(order_id), source_system="pos"))
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    return (await client.post("/api/v1/orders", content=body, headers=headers)).status_code


async def scrape(client: httpx.AsyncClient) -> str:
    answer = await client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return answer.text


def test_every_series_moves_with_what_it_counts(tmp_path: Path, database: str) -> None:
    declared = catalog(tmp_path, database)
    board = Board(behaviour={"printer": refuse_the_first})
    seen: dict[str, str] = {}

    async def main() -> None:
        hub = Hub(declared, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=0.001, cap=0.001))
        hub.services.extra["board"] = board
        runtime = Runtime(declared, hub, schedule=False, watch=False)
        async with served(create_app(hub, runtime=runtime)) as client:
            seen["quiet"] = await scrape(client)
            assert [await post(client, n) for n in ("o-1", "o-2", "o-1")] == [202, 202, 200]
            await pair_screen(hub, client, "grill", "loc-1")
            async with client.stream("GET", "/kds/grill/events") as screen:  # a paired screen connects
                await eventually(lambda: runtime.kitchen.screens_online("grill") == 1)

                async def delivered() -> bool:
                    return len(runtime.kitchen.tickets_for("grill")) == 2 and bool(
                        await hub.deliveries.dead_by_flow()
                    )

                await eventually(delivered)
                await runtime.watch_once()  # the dead letter fires its alert
                seen["busy"] = await scrape(client)
                await screen.aclose()
            other = Runtime(declared, Hub(declared, deliver=False), schedule=False, watch=False)
            async with served(create_app(other.hub, runtime=other)) as second:
                assert await post(second, "o-3") == 202  # stored by the other process

                async def counted_everywhere() -> bool:  # stored there, delivered here, counted once
                    samples = parse(await scrape(client))[0]
                    stored = value(samples, "expediter_messages_accepted_total", source="pos", kind="orders")
                    sent = value(samples, "expediter_deliveries_total", flow="pos-kds", outcome="delivered")
                    return (stored, sent) == (3, 3)

                await eventually(counted_everywhere)
                seen["first"], seen["second"] = await scrape(client), await scrape(second)

    asyncio.run(main())
    quiet, types = parse(seen["quiet"])
    busy, _ = parse(seen["busy"])
    assert types == {
        "expediter_messages_accepted": "counter",
        "expediter_messages_duplicate": "counter",
        "expediter_deliveries": "counter",
        "expediter_delivery_latency_seconds": "histogram",
        "expediter_transfers": "counter",
        "expediter_deliveries_pending": "gauge",
        "expediter_lanes_waiting": "gauge",
        "expediter_dead_letters": "gauge",
        "expediter_alerts_firing": "gauge",
        "expediter_kitchen_open_tickets": "gauge",
        "expediter_kitchen_screens_connected": "gauge",
    }
    orders = {"source": "pos", "kind": "orders"}
    assert value(quiet, "expediter_messages_accepted_total", **orders) == 0
    assert value(busy, "expediter_messages_accepted_total", **orders) == 2
    assert value(busy, "expediter_messages_duplicate_total", **orders) == 1

    assert value(busy, "expediter_deliveries_total", flow="pos-kds", outcome="delivered") == 2
    assert value(busy, "expediter_deliveries_total", flow="pos-printer", outcome="dead") == 1
    assert value(busy, "expediter_transfers_total", flow="pos-kds", outcome="succeeded") == 2
    assert value(busy, "expediter_transfers_total", flow="pos-printer", outcome="dead") == 1

    latency = "expediter_delivery_latency_seconds"
    assert value(busy, f"{latency}_count", flow="pos-kds") == 2
    assert value(busy, f"{latency}_bucket", flow="pos-kds", le="+Inf") == 2
    assert value(busy, f"{latency}_sum", flow="pos-kds") > 0
    buckets = sorted(
        (float(dict(labels)["le"]), count)
        for (name, labels), count in busy.items()
        if name == f"{latency}_bucket" and dict(labels)["flow"] == "pos-kds"
    )
    assert [count for _, count in buckets] == sorted(count for _, count in buckets)  # cumulative

    printer_lane = {"destination": "printer", "location": "loc-1"}
    assert value(quiet, "expediter_deliveries_pending", **printer_lane) == 0  # known lanes read 0
    assert value(busy, "expediter_deliveries_pending", **printer_lane) == 1  # o-2 waits behind o-1
    assert value(busy, "expediter_deliveries_pending", destination="kds", location="loc-1") == 0
    assert value(busy, "expediter_lanes_waiting", reason="dead_letter") == 1
    assert value(quiet, "expediter_dead_letters", flow="pos-printer") == 0
    assert value(busy, "expediter_dead_letters", flow="pos-printer") == 1
    assert value(quiet, "expediter_alerts_firing", kind="dead_letter") == 0
    assert value(busy, "expediter_alerts_firing", kind="dead_letter") == 1

    assert value(quiet, "expediter_kitchen_open_tickets", station="grill") == 0
    assert value(busy, "expediter_kitchen_open_tickets", station="grill") == 2
    assert value(quiet, "expediter_kitchen_screens_connected", station="grill") == 0
    assert value(busy, "expediter_kitchen_screens_connected", station="grill") == 1

    first, _ = parse(seen["first"])
    second, _ = parse(seen["second"])
    kitchen = ("expediter_kitchen_open_tickets", "expediter_kitchen_screens_connected")
    assert {k: v for k, v in first.items() if not k[0].startswith(kitchen)} == second
    assert value(second, "expediter_messages_accepted_total", **orders) == 3
    assert value(second, "expediter_alerts_firing", kind="dead_letter") == 1  # the watcher's alert


def test_names_follow_the_prometheus_conventions(tmp_path: Path, database: str) -> None:
    async def main() -> str:
        hub = Hub(catalog(tmp_path, database), connectors=TEST_CONNECTORS)
        async with served(create_app(hub)) as client:
            return await scrape(client)

    for family in text_string_to_metric_families(asyncio.run(main())):
        assert family.name.startswith("expediter_") and family.documentation
        if family.type == "counter":
            assert all(s.name == f"{family.name}_total" for s in family.samples)
        if family.type == "histogram":
            assert family.name.endswith("_seconds")
