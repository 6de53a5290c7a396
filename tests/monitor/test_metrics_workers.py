"""``expediter serve --workers 2``: each scrape of ``/metrics`` lands on either process (the kernel
shares connections out), and every one of them tells the same totals."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from decimal import Decimal
from pathlib import Path

import httpx
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from expediter.model import clock
from expediter.model.money import Money
from expediter.model.order import Line, Order
from expediter.sim.ports import free_port
from tests.engine.helpers import eventually
from tests.processes import kill_group, serve_catalog, serve_command, wait_healthy

pytestmark = [pytest.mark.slow, pytest.mark.service]
TOKEN = "metrics-workers-token"
ORDERS = 40
SCRAPES = 12


def order(n: int) -> bytes:
    line = Line(id="1", name="Tacos", quantity=Decimal(3), unit_price=Money(399))
    return msgspec.json.encode(Order(id=f"m-{n}", location_id="L1", opened_at=clock.now(), lines=[line]))


def accepted(client: httpx.Client) -> tuple[float, float]:
    """Accepted and duplicate orders of the POS, as one scrape says."""
    found = {"expediter_messages_accepted_total": 0.0, "expediter_messages_duplicate_total": 0.0}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name in found and sample.labels == {"source": "pos", "kind": "orders"}:
                found[sample.name] = sample.value
    return found["expediter_messages_accepted_total"], found["expediter_messages_duplicate_total"]


def test_two_workers_count_alike(tmp_path: Path) -> None:
    config = serve_catalog(tmp_path, TOKEN)
    port = free_port()
    process = subprocess.Popen(serve_command(config, port, workers=2), start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection, so either worker
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        with httpx.Client(base_url=base, limits=fresh, timeout=10) as client:
            bodies = [order(n) for n in range(ORDERS)]
            for body in bodies:
                assert client.post("/api/v1/orders", content=body, headers=headers).status_code == 202
            for body in bodies[:5]:  # the same orders sent again: duplicates
                assert client.post("/api/v1/orders", content=body, headers=headers).status_code == 200

            async def settled() -> bool:  # each process adds its counts to the database every second
                return accepted(client) == (ORDERS, 5)

            asyncio.run(eventually(settled))
            assert [accepted(client) for _ in range(SCRAPES)] == [(ORDERS, 5)] * SCRAPES
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            kill_group(process)
