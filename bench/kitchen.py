"""Kitchen latency: an order handed to the hub → its ticket event on a subscribed screen's SSE feed.

Two processes on this machine: a server (the real hub: ``create_app(hub)`` with the kds system, the
kitchen service and uvicorn on loopback) and this client, which keeps one SSE stream open on
``/kds/grill/events`` and POSTs canonical orders to ``/api/v1/orders`` at a fixed rate. Latency is
the time from just before the POST to the arrival of the order's first ticket event. Without the
engine's app, the server feeds the kds sink directly (``POST /bench/order``).

    .venv/bin/python bench/kitchen.py                     # 200 orders/s, then the rate search
    .venv/bin/python bench/kitchen.py --rates 200 --seconds 10

Prints p50 / p99 per rate and the highest rate whose p99 stays under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-kitchen-token"
STATION = "grill"
CONNECTIONS = 32


# -- server -----------------------------------------------------------------------------------------


def bench_catalog(directory: Path, locations: int) -> Any:
    from expediter.catalog.schema import ApiToken, Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
    from expediter.catalog.schema import Hub as HubSettings
    from expediter.catalog.secrets import hash_token
    from expediter.model.location import Location

    return Catalog(
        hub=HubSettings(database=str(directory / "hub.db"), allowed_hosts=["bench"]),
        locations=[Location(id=f"loc-{n}", name=f"Bench {n}", timezone="UTC") for n in range(locations)],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="bench"),
            System(id="kds", kind=SystemKind.KDS, connector="kds", owner="bench"),
        ],
        flows=[
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="bench",
            )
        ],
        api_tokens=[ApiToken(name="bench", sha256=hash_token(TOKEN), systems=["pos"])],
        mappings=Mappings(stations={"burgers": [STATION], "sides": ["fry"]}),
    )


async def serve(directory: Path, via_sink: bool, locations: int) -> None:
    import uvicorn

    from expediter.operations.kitchen import Kitchen, KitchenStore

    catalog = bench_catalog(directory, locations)
    try:
        from expediter.engine.hub import Hub
        from expediter.web.app import create_app

        engine = not via_sink
    except ImportError:
        engine = False
    if engine:
        hub = Hub(catalog, poll_interval=0.5)
        await hub.start_storage()
        kitchen = Kitchen.from_catalog(catalog, KitchenStore(hub.storage), emit=hub.inbox.accept)
        await kitchen.start()
        hub.services["kitchen"] = kitchen
        hub.services["availability"] = kitchen
        await hub.start()
        app = create_app(hub, manage_hub=False)
        path, device = "/api/v1/orders", await paired_screen(hub)
    else:
        from expediter.engine.storage import open_storage

        kitchen = Kitchen.from_catalog(
            catalog, KitchenStore(open_storage(directory / "kitchen.db"), owned=True)
        )
        await kitchen.start()
        app, path, device = sink_app(kitchen), "/bench/order", ""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    print(json.dumps({"url": f"http://127.0.0.1:{port}", "path": path, "device": device}), flush=True)
    await task


async def paired_screen(hub: Any) -> str:
    """A screen's device credential, paired for every location as an operator would pair it (the
    kitchen feed is for paired devices only)."""
    from expediter.web.people import people_of

    devices = people_of(hub).devices
    made = await devices.request_pairing(STATION, "bench")
    assert made is not None
    claim, request = made
    await devices.approve(request.code, name="bench", location_id="", stations=[STATION], approved_by="bench")
    claimed = await devices.claim(claim, "bench")
    assert claimed is not None
    return claimed[0]


def sink_app(kitchen: Any) -> Any:
    """Without the engine: the kds sink fed directly over HTTP."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from expediter.connectors.base import Outbound
    from expediter.connectors.kds.client import KdsSink
    from expediter.web.kds import kitchen_routes

    sink = KdsSink(kitchen)
    counter = iter(range(1, 10**9))

    async def order(request: Request) -> Response:
        body = await request.body()
        n = next(counter)
        item = Outbound(
            delivery_id=n,
            delivery_key=str(n),
            message_id=n,
            flow_id="bench",
            destination="kds",
            location_id=None,
            kind="orders",
            payload=body,
            content_type="application/json",
            attempt=1,
        )
        await sink.deliver(item)
        return Response(status_code=202)

    return Starlette(routes=[*kitchen_routes(kitchen), Route("/bench/order", order, methods=["POST"])])


# -- client -----------------------------------------------------------------------------------------


def order_body(order_id: str, location_id: str) -> bytes:
    from expediter.model.money import Money
    from expediter.model.order import Line, Modifier, ModifierAction, Order

    burger = Line(
        id="l-1",
        name="Classic Burger",
        quantity=Decimal(1),
        unit_price=Money(1200),
        category="burgers",
        modifiers=[
            Modifier(name="onions", action=ModifierAction.REMOVE),
            Modifier(name="Fries", station="fry"),
        ],
    )
    order = Order(
        id=order_id,
        location_id=location_id,
        opened_at=datetime.now(UTC),
        lines=[burger],
        source_system="pos",
        table="7",
    )
    return msgspec.json.encode(order)


def host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


async def watch(url: str, seen: dict[str, float], ready: asyncio.Event, device: str = "") -> None:
    """One screen on raw asyncio streams (HTTP/1.0: no chunking): when each order's first ticket
    event arrives. A Python HTTP library would cost more CPU than the server being measured."""
    reader, writer = await asyncio.open_connection(*host_port(url), limit=2**26)
    cookie = f"Cookie: expediter_device={device}\r\n" if device else ""
    writer.write(f"GET /kds/{STATION}/events HTTP/1.0\r\nHost: bench\r\n{cookie}\r\n".encode())
    event = b""
    try:
        while line := await reader.readline():
            if line.startswith(b"event: "):
                event = line[7:].strip()
                if event == b"caught_up":
                    ready.set()
            elif line.startswith(b"data: ") and event == b"ticket":
                now = time.perf_counter()
                order_id = json.loads(line[6:])["ticket"]["order_id"]
                seen.setdefault(order_id, now)
    finally:
        writer.close()


def post_request(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_status(reader: asyncio.StreamReader) -> int:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def poster(url: str, queue: asyncio.Queue[bytes | None], statuses: list[int]) -> None:
    """One keep-alive connection posting whatever the pacer queues."""
    reader, writer = await asyncio.open_connection(*host_port(url))
    try:
        while (request := await queue.get()) is not None:
            writer.write(request)
            statuses.append(await read_status(reader))
    finally:
        writer.close()


async def run_rate(
    url: str, path: str, rate: int, seconds: float, tag: str, locations: int, device: str = ""
) -> dict[str, float]:
    """Open loop: order n is due at start + n/rate; its latency counts from then (so a server
    that falls behind shows it, rather than slowing the client down)."""
    seen: dict[str, float] = {}
    due: dict[str, float] = {}
    ready = asyncio.Event()
    watcher = asyncio.create_task(watch(url, seen, ready, device))
    await asyncio.wait_for(ready.wait(), 10)
    total = int(rate * seconds)
    requests = [
        (f"{tag}-{n}", post_request(path, order_body(f"{tag}-{n}", f"loc-{n % locations}")))
        for n in range(total)
    ]
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    statuses: list[int] = []
    workers = [asyncio.create_task(poster(url, queue, statuses)) for _ in range(CONNECTIONS)]
    start = time.perf_counter()
    for n, (order_id, request) in enumerate(requests):
        due[order_id] = start + n / rate
        delay = due[order_id] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(request)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    deadline = time.perf_counter() + 10
    while len(seen) < len(due) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    failed = sum(1 for status in statuses if status >= 300)
    latencies = sorted((seen[o] - due[o]) * 1000 for o in due if o in seen)
    return summary(rate, len(due) / elapsed, latencies, len(due) - len(latencies), failed)


def summary(rate: int, achieved: float, ms: list[float], missing: int, failed: int) -> dict[str, float]:
    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, int(p * len(ms)))] if ms else float("nan")

    return {
        "target": rate,
        "achieved": round(achieved, 1),
        "p50_ms": round(pct(0.50), 1),
        "p99_ms": round(pct(0.99), 1),
        "max_ms": round(ms[-1], 1) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
        "missing": missing,
        "failed": failed,
    }


async def client_main(
    url: str, path: str, rates: list[int], seconds: float, locations: int, device: str = ""
) -> None:
    print(f"path: {path} (order POSTed → ticket event on /kds/{STATION}/events), {locations} locations")
    best = 0
    for index, rate in enumerate(rates):
        result = await run_rate(url, path, rate, seconds, f"r{index}", locations, device)
        print(json.dumps(result), flush=True)
        healthy = result["p99_ms"] < 100 and result["achieved"] >= rate * 0.95 and not result["missing"]
        if not healthy and index > 0:
            break
        if healthy:
            best = rate
    print(f"highest rate with p99 < 100 ms: {best} orders/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rates", default="200,300,400,600,800,1000,1300,1600")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--locations", type=int, default=20, help="orders spread over this many locations")
    parser.add_argument("--via-sink", action="store_true", help="skip the engine: feed the kds sink directly")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.via_sink, args.locations))
        return
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
        server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                directory,
                f"--locations={args.locations}",
                *(["--via-sink"] if args.via_sink else []),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert server.stdout is not None
            started = next(json.loads(line) for line in server.stdout if line.startswith('{"url"'))
            drain = threading.Thread(target=server.stdout.read, daemon=True)  # the hub logs to stdout
            drain.start()
            rates = [int(r) for r in args.rates.split(",")]
            asyncio.run(
                client_main(
                    started["url"],
                    started["path"],
                    rates,
                    args.seconds,
                    args.locations,
                    started.get("device", ""),
                )
            )
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
