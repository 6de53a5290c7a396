"""Kitchen capacity: an order POSTed to the hub → its ticket events on every subscribed screen.

Runs the hub as a user runs it (``expediter serve``, a subprocess: uvicorn, httptools, uvloop,
SQLite on disk in WAL with ``synchronous=FULL``) with a pos → kds flow over three stations
(grill, fry, bar), and a paired screen subscribed to each station's live feed
(``GET /kds/{station}/events``, server-sent events). Each order has a line for each station, so
an order is cooked once its three tickets reached their three screens.

Two ways of loading it, after a warm-up:

- ``open loop`` (latency): this client POSTs orders at fixed offered rates (order *n* is due at
  start + n/rate over 32 keep-alive connections, so a hub that falls behind shows it instead of
  slowing the client down); latency is from an order's due time to the arrival of the **last**
  of its three ticket events; prints p50/p99 per rate and the highest rate whose p99 stays under
  ``--p99-ms``;
- ``wrk`` (capacity): Debian's wrk (a native client, closed loop, 50 connections) POSTs distinct
  orders as fast as the hub takes them while the screens count the tickets they receive:
  orders/s acknowledged and orders/s cooked (every ticket on its screen).

Each line prints the hub's CPU time per order (every process and thread of it, from ``/proc``) and
this client's own CPU use: when the client used most of a core, the client, not the hub, set the
limit, and the line says so.

    .venv/bin/python bench/kitchen.py                           # rates 200…2500, then wrk
    .venv/bin/python bench/kitchen.py --rates 500,1000 --seconds 5 --no-wrk
    .venv/bin/python bench/kitchen.py --profile /tmp/hub.svg    # py-spy flame graph of the hub
    .venv/bin/python bench/kitchen.py --processes 2             # once serve runs a kitchen in two

``--processes N`` passes ``--workers N`` to ``expediter serve`` (refused today while the kitchen
lives in one process: the bench says so and stops).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-kitchen-token"
STATIONS = ("grill", "fry", "bar")
CONNECTIONS = 32
LUA = Path(__file__).with_name("kitchen_orders.lua")
CLIENT_LIMIT = 0.85
"""Share of one core this client may use before its own speed, not the hub's, is the limit."""


# -- the hub ------------------------------------------------------------------------------------------


def bench_catalog(directory: Path, locations: int) -> Any:
    from expediter.catalog.schema import ApiToken, Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
    from expediter.catalog.schema import Hub as HubSettings
    from expediter.catalog.secrets import hash_token
    from expediter.model.location import Location

    return Catalog(
        hub=HubSettings(database=str(directory / "hub.db"), data_dir=str(directory / "data")),
        locations=[Location(id=f"L{n}", name=f"Bench {n}", timezone="UTC") for n in range(locations)],
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
                description="Every order becomes tickets on the station screens.",
                impact="Cooks do not see new orders.",
                contact="bench@example.com",
            )
        ],
        api_tokens=[ApiToken(name="bench", sha256=hash_token(TOKEN), systems=["pos"])],
        mappings=Mappings(stations={"burgers": ["grill"], "sides": ["fry"], "drinks": ["bar"]}),
    )


async def pair_screen(catalog: Any) -> str:
    """A screen's device credential for every station and location, paired as an operator pairs
    one (the kitchen feed is for paired devices only), written to the hub's database before the
    hub starts."""
    from expediter.engine.hub import Hub
    from expediter.web.people import people_of

    hub = Hub(catalog)
    await hub.start()
    try:
        devices = people_of(hub).devices
        made = await devices.request_pairing(STATIONS[0], "bench")
        assert made is not None
        claim, request = made
        await devices.approve(
            request.code, name="bench", location_id="", stations=list(STATIONS), approved_by="bench"
        )
        claimed = await devices.claim(claim, "bench")
        assert claimed is not None
        return claimed[0]
    finally:
        await hub.stop()


def start_hub(config: Path, processes: int, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-c",
        "from expediter.cli import main; main()",
        "serve",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(processes),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"expediter serve --workers {processes} did not start:\n{error.strip()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the hub did not start")


def hub_cpu_seconds(pid: int) -> float:
    """User + system CPU of the hub: the ``serve`` process and its workers, every thread."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    ticks = 0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of the hub (and its workers): a process's main thread is its
    event loop, the others are its writer and reader threads (Python does not name them here)."""
    found: dict[str, float] = {}
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    for each in pids:
        for task in Path(f"/proc/{each}/task").glob("*"):
            try:
                name = f"loop {each}" if int(task.name) == each else f"thread {task.name}"
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            found[name] = found.get(name, 0.0) + seconds
    return found


def thread_line(before: dict[str, float], after: dict[str, float], orders: int) -> str:
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    top = sorted(spent.items(), key=lambda item: -item[1])[:5]
    return "  threads µs/order: " + ", ".join(
        f"{name} {seconds / max(orders, 1) * 1e6:.0f}" for name, seconds in top if seconds > 0
    )


# -- orders -------------------------------------------------------------------------------------------


def template() -> bytes:
    """A canonical check with one line per station (ids and location left as ``__ID__`` and
    ``__LOC__``), checked against the canonical model."""
    from expediter.model.order import Order

    money = lambda amount: {"amount": amount, "currency": "USD"}  # noqa: E731
    order = {
        "id": "__ID__",
        "location_id": "L__LOC__",
        "opened_at": datetime.now(UTC).isoformat(),
        "source_system": "pos",
        "table": "12",
        "guest_count": 2,
        "lines": [
            {
                "id": "1",
                "name": "Double Smash Burger",
                "quantity": "2",
                "unit_price": money(1450),
                "category": "burgers",
                "modifiers": [{"name": "No onions", "action": "remove"}],
            },
            {"id": "2", "name": "Fries", "quantity": "1", "unit_price": money(450), "category": "sides"},
            {"id": "3", "name": "Lemonade", "quantity": "2", "unit_price": money(450), "category": "drinks"},
        ],
    }
    body = msgspec.json.encode(order)
    msgspec.json.decode(body.replace(b"__LOC__", b"0"), type=Order)
    return body


def post_request(body: bytes) -> bytes:
    head = (
        f"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# -- screens ------------------------------------------------------------------------------------------


class Screens:
    """One live feed per station on raw asyncio streams (HTTP/1.0: no chunking), noting when the
    last of an order's tickets arrived. A Python HTTP library would cost more CPU than the hub."""

    def __init__(self, port: int, device: str) -> None:
        self.port, self.device = port, device
        self.arrived: dict[bytes, int] = {}
        self.last: dict[bytes, float] = {}
        self.tickets = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        ready = [asyncio.Event() for _ in STATIONS]
        self.tasks = [
            asyncio.create_task(self.watch(station, event))
            for station, event in zip(STATIONS, ready, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready)), 30)

    async def watch(self, station: str, ready: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**26)
        writer.write(
            f"GET /kds/{station}/events HTTP/1.0\r\nHost: 127.0.0.1\r\n"
            f"Cookie: expediter_device={self.device}\r\n\r\n".encode()
        )
        event = b""
        marker = b'"order_id":"'
        try:
            while line := await reader.readline():
                if line.startswith(b"event: "):
                    event = line[7:].strip()
                    if event == b"caught_up":
                        ready.set()
                elif event == b"ticket" and line.startswith(b"data: "):
                    at = line.find(marker) + len(marker)
                    order_id = line[at : line.index(b'"', at)]
                    self.tickets += 1
                    count = self.arrived.get(order_id, 0) + 1
                    self.arrived[order_id] = count
                    if count == len(STATIONS):
                        self.last[order_id] = time.perf_counter()
        finally:
            writer.close()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task


# -- open loop ----------------------------------------------------------------------------------------


async def read_status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    at = head.lower().find(b"content-length:")
    if at >= 0:
        length = int(head[at + 15 : head.index(b"\r\n", at)])
        await reader.readexactly(length)
    return status


async def poster(port: int, queue: asyncio.Queue[bytes | None], statuses: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (request := await queue.get()) is not None:
            writer.write(request)
            statuses.append(await read_status(reader))
    finally:
        writer.close()


async def open_loop(
    port: int, screens: Screens, body: bytes, rate: int, seconds: float, tag: str, locations: int
) -> dict[str, Any]:
    total = int(rate * seconds)
    ids = [f"{tag}-{n}".encode() for n in range(total)]
    requests = [
        post_request(body.replace(b"__ID__", order_id).replace(b"__LOC__", str(n % locations).encode()))
        for n, order_id in enumerate(ids)
    ]
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    statuses: list[int] = []
    workers = [asyncio.create_task(poster(port, queue, statuses)) for _ in range(CONNECTIONS)]
    client_before = time.process_time()
    start = time.perf_counter()
    sent = 0
    while sent < total:  # each millisecond, queue every order now due
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        for request in requests[sent:due]:
            queue.put_nowait(request)
        sent = due
        await asyncio.sleep(0.001)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    deadline = time.perf_counter() + 15
    while sum(order_id in screens.last for order_id in ids[-50:]) < 50 and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    client_share = (time.process_time() - client_before) / (time.perf_counter() - start)
    latencies = sorted(
        (screens.last[order_id] - (start + n / rate)) * 1000
        for n, order_id in enumerate(ids)
        if order_id in screens.last
    )
    return {
        "offered": rate,
        "posted_per_s": round(total / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(latencies[-1], 1) if latencies else float("nan"),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else float("nan"),
        "not_cooked": total - len(latencies),
        "failed": sum(1 for status in statuses if status >= 300),
        "client_core": round(client_share, 2),
    }


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


# -- wrk ----------------------------------------------------------------------------------------------


async def wrk_run(
    port: int, screens: Screens, body_file: Path, seconds: int, locations: int
) -> dict[str, Any]:
    command = [
        "wrk",
        "-t1",
        "-c50",
        f"-d{seconds}s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        "/api/v1/orders",
        TOKEN,
        str(body_file),
        str(locations),
    ]
    tickets_before = screens.tickets
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    output, _ = await process.communicate()
    elapsed = time.perf_counter() - start
    line = next(x for x in output.decode().splitlines() if x.startswith("WRK_RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_RESULT "))
    ok = result["requests"] - result["non2xx"]
    expected = screens.tickets - tickets_before
    deadline = time.perf_counter() + 30
    while screens.tickets - tickets_before < ok * len(STATIONS) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        expected = screens.tickets - tickets_before
    drained = time.perf_counter() - start
    return {
        "acknowledged_per_s": round(ok / (result["duration_us"] / 1e6), 1),
        "cooked_per_s": round(expected / len(STATIONS) / drained, 1),
        "post_p50_ms": round(result["p50_us"] / 1000, 2),
        "post_p99_ms": round(result["p99_us"] / 1000, 2),
        "drain_s": round(drained - elapsed, 2),
        "orders": ok,
        "errors": result["non2xx"] + result["connect"] + result["read"] + result["write"] + result["timeout"],
    }


# -- the run ------------------------------------------------------------------------------------------


def cpu_line(result: dict[str, Any], hub_cpu: float, orders: int) -> str:
    result["hub_cpu_us_per_order"] = round(hub_cpu / max(orders, 1) * 1e6)
    text = json.dumps(result)
    if result.get("client_core", 0) >= CLIENT_LIMIT:
        text += f"  ← this client used {result['client_core']:.0%} of a core: the client is the limit"
    return text


async def measure(args: argparse.Namespace, port: int, pid: int, device: str, folder: Path) -> None:
    import uvloop  # noqa: F401  (the client runs on uvloop, see main)

    body = template()
    body_file = folder / "order.json"
    body_file.write_bytes(body)
    screens = Screens(port, device)
    await screens.open()
    print(
        f"expediter kitchen: {args.processes} hub process(es), {os.cpu_count()} cores, {len(STATIONS)}"
        f" stations each with a subscribed screen, {args.locations} locations, SQLite WAL synchronous=FULL;"
        f" load average {os.getloadavg()[0]:.1f} (above the core count, the figures are the machine's)"
    )
    await open_loop(port, screens, body, args.warmup_rate, args.warmup, "warm", args.locations)
    best = 0
    for index, rate in enumerate(int(r) for r in args.rates.split(",")):
        before, threads = hub_cpu_seconds(pid), thread_cpu_seconds(pid)
        result = await open_loop(port, screens, body, rate, args.seconds, f"r{index}", args.locations)
        orders = int(rate * args.seconds)
        print("open loop " + cpu_line(result, hub_cpu_seconds(pid) - before, orders), flush=True)
        print(thread_line(threads, thread_cpu_seconds(pid), orders), flush=True)
        healthy = (
            result["p99_ms"] < args.p99_ms
            and result["posted_per_s"] >= rate * 0.95
            and not result["not_cooked"]
            and not result["failed"]
        )
        if healthy:
            best = rate
        elif result["client_core"] >= CLIENT_LIMIT:
            print("open loop: stopped, the client cannot offer more")
            break
        else:
            break
    print(
        f"open loop: highest offered rate with p99 < {args.p99_ms:g} ms (POST → last ticket): {best} orders/s"
    )
    if args.wrk and shutil.which("wrk"):
        before, threads = hub_cpu_seconds(pid), thread_cpu_seconds(pid)
        result = await wrk_run(port, screens, body_file, args.wrk_seconds, args.locations)
        print("wrk       " + cpu_line(result, hub_cpu_seconds(pid) - before, result["orders"]), flush=True)
        print(thread_line(threads, thread_cpu_seconds(pid), result["orders"]), flush=True)
    elif args.wrk:
        print("wrk is not installed (Debian: apt-get install wrk): capacity run skipped")
    await screens.close()


def profile(pid: int, output: str) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed (pip install py-spy): --profile skipped")
        return None
    fmt = "speedscope" if output.endswith(".json") else ("raw" if output.endswith(".txt") else "flamegraph")
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "-r", "200"]
    return subprocess.Popen([*command, "-f", fmt, "-o", output], stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="200,500,1000,1500,2000,2500", help="offered orders/s, in turn")
    parser.add_argument("--seconds", type=float, default=5.0, help="per offered rate")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up before measuring")
    parser.add_argument("--warmup-rate", type=int, default=200)
    parser.add_argument("--p99-ms", type=float, default=50.0)
    parser.add_argument("--locations", type=int, default=20, help="orders spread over this many locations")
    parser.add_argument("--processes", type=int, default=1, help="expediter serve --workers")
    parser.add_argument(
        "--wrk", action=argparse.BooleanOptionalAction, default=True, help="the wrk capacity run"
    )
    parser.add_argument("--wrk-seconds", type=int, default=6)
    parser.add_argument("--profile", default="", help="py-spy the hub into this file (.svg, .json, .txt)")
    args = parser.parse_args()
    from expediter.sim.ports import free_port

    with tempfile.TemporaryDirectory(prefix="expediter-kitchen-", dir=os.environ.get("BENCH_DIR")) as tmp:
        folder = Path(tmp)
        catalog = bench_catalog(folder, args.locations)
        device = asyncio.run(pair_screen(catalog))
        config = folder / "catalog.json"
        config.write_bytes(msgspec.json.encode(catalog))
        port = free_port()
        hub = start_hub(config, args.processes, port)
        spy = None
        try:
            spy = profile(hub.pid, args.profile) if args.profile else None
            import uvloop

            uvloop.run(measure(args, port, hub.pid, device, folder))
        finally:
            hub.terminate()
            hub.wait(60)
            if spy is not None:
                spy.wait(30)
                print(f"profile: {args.profile}")


if __name__ == "__main__":
    main()
