"""Benchmark: what schema drift costs an order, in CPU time of this process (the machine is shared,
so wall-clock figures would mostly measure the neighbours).

Over the ingest benchmark's ~1 KB order (``bench/ingest.py``), each figure the median of
``--repeat`` runs of ``--orders`` calls, in microseconds per order:

- decode, as the model reads it (``Decoder(Order)``: what the API did before);
- decode with the strict twin (``expediter.model.strict``: what it does now, seeing unknown fields);
- ``DriftWatch.observe`` of a strictly decoded order once the stream has learned (what the inbox
  adds per order: the count, and the whole shape of one order in ``SAMPLE_EVERY``);
- ``DriftWatch.observe`` reading a payload's whole shape (what a webhook, a punch or an order with
  an unknown field costs; a shape seen before is judged from memory).

Usage: ``.venv/bin/python bench/drift.py [--orders 20000] [--repeat 7]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).parent))

from expediter.catalog.schema import Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.model.strict import strict_twin
from expediter.monitor.drift import LEARN_MESSAGES, SAMPLE_EVERY, Arrival, DriftWatch
from expediter.plugin.base import IncomingMessage
from expediter.storage import open_storage
from ingest import template


def per_call(work: Callable[[int], object], calls: int, repeat: int) -> float:
    """The median over ``repeat`` runs of CPU microseconds per call."""
    runs = []
    for _ in range(repeat):
        started = time.process_time()
        for n in range(calls):
            work(n)
        runs.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(runs)


def catalog(folder: Path) -> Catalog:
    return Catalog(
        hub=Hub(database=str(folder / "hub.db")),
        locations=[Location(id="L1", name="Bench", timezone="America/New_York")],
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
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    body = template().replace(b"__ID__", b"bench-1")
    lax, strict = msgspec.json.Decoder(Order), msgspec.json.Decoder(strict_twin(Order))
    message = IncomingMessage(source_system="pos", kind="orders", idempotency_key="k", payload=body)

    async def watch() -> DriftWatch:
        folder = Path(tempfile.mkdtemp(prefix="expediter-bench-drift-"))
        storage = open_storage(str(folder / "hub.db"))
        await storage.start()
        found = DriftWatch(catalog(folder), storage)
        await found.start()
        for _ in range(LEARN_MESSAGES):
            found.observe(message, Arrival.UNCHECKED)  # the stream learns (nothing is written here)
        await storage.stop()
        return found

    drift = asyncio.run(watch())
    print(
        f"schema drift, CPU per order ({len(body)} B order, {args.orders:,} × {args.repeat}; "
        f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    figures = {
        "decode as the model reads it (before)": per_call(
            lambda n: lax.decode(body), args.orders, args.repeat
        ),
        "decode with the strict twin (now)": per_call(
            lambda n: strict.decode(body), args.orders, args.repeat
        ),
        f"observe, checked order (1 in {SAMPLE_EVERY} read whole)": per_call(
            lambda n: drift.observe(message, Arrival.CHECKED), args.orders, args.repeat
        ),
        "observe, whole shape read (webhooks, punches)": per_call(
            lambda n: drift.observe(message, Arrival.UNCHECKED), args.orders // 10, args.repeat
        ),
    }
    for name, micros in figures.items():
        print(f"  {name:<48} {micros:7.2f} µs")


if __name__ == "__main__":
    main()
