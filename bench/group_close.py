"""Group close from the hub's database: the nightly close of N location-days (default 1,000).

1. **Populate** (once per set of parameters): the simulator's orders for N locations of one
   business date (~1,500 checks each) go into a hub database through the hub's own inbox
   (``Inbox.accept_many``, one transaction per location-day), as a POS posting them would leave
   them. The file is cached under ``$BENCH_DIR`` (or the system's temporary folder), named after
   the parameters, so later runs skip this step.
2. **Close**: for every location-day, the hub's own reads (the newest version of each order of
   the day, and earlier orders refunded on it: ``expediter.engine.jobs``), then the sales summary
   (``close_day``), the journal (``build_journal``) and theoretical usage, per order in Python —
   the path ``expediter run`` takes — spread over ``--workers`` processes. Prints the wall time,
   the CPU time (all processes) and the peak RSS apart, and per part the CPU seconds.
3. **Check**: for the first ``--check`` locations the journal, summary and usage built from the
   database are compared with those built from the simulator's orders in memory (to the cent).
4. **Columnar** (``--columnar``, DuckDB when installed): the same location-days' tender totals
   computed by DuckDB from the stored payloads, against the same totals from the per-order path,
   timed apart (what a columnar engine would save on reading and summing).

    .venv/bin/python bench/group_close.py                        # 1,000 location-days, 2 workers
    .venv/bin/python bench/group_close.py --locations 100 --workers 2 --columnar

PostgreSQL: ``--database postgresql://…`` populates and reads that (empty) database instead.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec

from close import DAY, bench_mappings, bench_recipes
from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.inbox import Arriving
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.operations.accounting.dating import sale_date
from expediter.operations.accounting.journal import DrawerCount, JournalEntry, build_journal
from expediter.operations.inventory.usage import theoretical_usage
from expediter.operations.sales.close import close_day
from expediter.plugin.base import IncomingMessage
from expediter.sim.day import iter_orders
from expediter.sim.locations import sim_location

MAPPINGS = bench_mappings()
BOOK = bench_recipes()
COLUMNAR_TENDERS = ("card", "cash")
"""Tenders whose journal debit is what was paid plus the tip (a marketplace's is net of its fee)."""
SCHEMA_VERSION = "1"
"""Bumped when what populate writes changes, so an old cached file is not reused."""


# -- populate -----------------------------------------------------------------------------------------


def database_for(args: argparse.Namespace) -> str:
    if args.database:
        return str(args.database)
    key = hashlib.sha256(f"{SCHEMA_VERSION}:{args.locations}:{args.seed}:{DAY}".encode()).hexdigest()[:12]
    folder = Path(os.environ.get("BENCH_DIR") or tempfile.gettempdir()) / "expediter-group-close"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"hub-{args.locations}-{args.seed}-{key}.db")


def bench_catalog(database: str, locations: int) -> Catalog:
    return Catalog(
        hub=HubSettings(database=database),
        locations=[sim_location(number) for number in range(1, locations + 1)],
        systems=[System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="bench")],
    )


def location_day(number: int, seed: int) -> list[tuple[str, str, bytes, date]]:
    """One location's day as the inbox stores it: (idempotency key, ref, payload, business date)."""
    location = sim_location(number)
    encoder = msgspec.json.Encoder()
    return [
        (f"pos:{order.id}:{order.version}", order.id, encoder.encode(order), sale_date(order, location))
        for order in iter_orders(location, DAY, seed + number)
    ]


async def populate(database: str, locations: int, seed: int, workers: int) -> int:
    from expediter.engine.hub import Hub

    hub = Hub(bench_catalog(database, locations))
    await hub.start()
    stored = 0
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            days = pool.imap(_location_day, ((n, seed) for n in range(1, locations + 1)), chunksize=4)
            for number, rows in enumerate(days, start=1):
                location_id = sim_location(number).id
                items = [
                    Arriving(
                        message=IncomingMessage(
                            source_system="pos",
                            kind="orders",
                            idempotency_key=key,
                            payload=payload,
                            location_id=location_id,
                        ),
                        ref=ref,
                        business_date=business_date,
                    )
                    for key, ref, payload, business_date in rows
                ]
                await hub.inbox.accept_many(items, processed=True)
                stored += len(items)
                if number % 100 == 0:
                    print(f"populate: {number:,} location-days, {stored:,} orders", flush=True)
    finally:
        await hub.stop()
    return stored


def _location_day(job: tuple[int, int]) -> list[tuple[str, str, bytes, date]]:
    return location_day(*job)


# -- close (per order, in Python, from the database) -------------------------------------------------

_WORKER: dict[str, Any] = {}


def _open(database: str) -> tuple[asyncio.AbstractEventLoop, Any]:
    """This process's storage on the hub's database, and the loop its reads run on."""
    if "hub" not in _WORKER:
        from expediter.storage import open_storage

        loop = asyncio.new_event_loop()
        storage = open_storage(database)
        loop.run_until_complete(storage.start())
        _WORKER["loop"], _WORKER["hub"] = loop, SimpleNamespace(storage=storage)
    return _WORKER["loop"], _WORKER["hub"]


async def _read_day(hub: Any, location: Location) -> list[Order]:
    from expediter.engine.jobs import orders_between, refunded_orders_between

    orders = await orders_between(hub, location.id, DAY, DAY)
    refunded = await refunded_orders_between(hub, location, DAY, DAY)
    return [*orders, *refunded]


def close_orders(location: Location, orders: list[Order]) -> tuple[Any, JournalEntry, Any, dict[str, float]]:
    times: dict[str, float] = {}
    started = time.process_time()
    summary = close_day(location, DAY, orders)
    summarized = time.process_time()
    drawer = DrawerCount(location_id=location.id, business_date=DAY, counted_cash=_cash(orders))
    entry = build_journal(
        orders, MAPPINGS, location_id=location.id, business_date=DAY, drawer=drawer, location=location
    )
    journaled = time.process_time()
    usage = theoretical_usage(orders, BOOK, location_id=location.id, business_date=DAY)
    times.update(
        summary_s=summarized - started,
        journal_s=journaled - summarized,
        usage_s=time.process_time() - journaled,
    )
    return summary, entry, usage, times


def _cash(orders: list[Order]) -> Any:
    from expediter.model.money import Money

    return Money(250_000)


def close_location(job: tuple[str, int]) -> dict[str, Any]:
    database, number = job
    loop, hub = _open(database)
    location = sim_location(number)
    started = time.process_time()
    orders = loop.run_until_complete(_read_day(hub, location))
    read = time.process_time() - started
    summary, entry, usage, times = close_orders(location, orders)
    tenders = _tenders(entry)
    return {
        "number": number,
        "orders": len(orders),
        "read_s": read,
        **times,
        "tenders": tenders,
        "digest": _digest(summary, entry, usage),
    }


def _tenders(entry: JournalEntry) -> dict[str, int]:
    """The journal's debits per tender clearing account (what the columnar run recomputes)."""
    found: dict[str, int] = {}
    for line in entry.lines:
        if line.debit.amount and line.account in {*MAPPINGS.tender_accounts.values()}:
            found[line.account] = found.get(line.account, 0) + line.debit.amount
    return found


def _digest(summary: Any, entry: JournalEntry, usage: Any) -> str:
    encoder = msgspec.json.Encoder(order="deterministic")
    parts = [
        encoder.encode(entry),
        encoder.encode(usage),
        repr(summary.summary() if hasattr(summary, "summary") else summary).encode(),
    ]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def run_close(database: str, locations: int, workers: int) -> Iterator[dict[str, Any]]:
    jobs = ((database, number) for number in range(1, locations + 1))
    if workers <= 1:
        yield from map(close_location, jobs)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap_unordered(close_location, jobs, chunksize=4)


def check_in_memory(results: dict[int, dict[str, Any]], count: int, seed: int) -> int:
    """Location-days whose close from the database differs from the close of the simulator's
    orders in memory (the journal to the cent, the summary and usage)."""
    differing = 0
    for number in range(1, count + 1):
        location = sim_location(number)
        orders = list(iter_orders(location, DAY, seed + number))
        summary, entry, usage, _ = close_orders(location, orders)
        if _digest(summary, entry, usage) != results[number]["digest"]:
            differing += 1
            print(f"check: location {location.id} differs between the database and memory")
    return differing


# -- columnar ------------------------------------------------------------------------------------------

_TENDERS_SQL = """
SELECT location_id, p.tender, SUM(p.amount.amount + COALESCE(p.tip.amount, 0)) AS total
FROM (SELECT location_id, unnest(payments) AS p FROM read_json(?, format = 'newline_delimited',
      columns = {location_id: 'VARCHAR', payments: 'STRUCT(tender VARCHAR, amount STRUCT(amount BIGINT),
                 tip STRUCT(amount BIGINT))[]'}))
GROUP BY location_id, p.tender
"""


def columnar_tenders(database: str, folder: Path) -> tuple[dict[tuple[str, str], int], float, float]:
    """Tender totals per location-day summed by DuckDB over the stored payloads. DuckDB's SQLite
    scanner is an extension it downloads at run time (a kitchen's offline machine cannot), so the
    payloads are read with sqlite3 and handed over as newline-delimited JSON."""
    import sqlite3

    import duckdb

    started = time.perf_counter()
    lines = folder / "payloads.ndjson"
    with sqlite3.connect(database) as conn, lines.open("wb") as out:
        cursor = conn.execute("SELECT payload FROM messages WHERE kind = 'orders'")
        while rows := cursor.fetchmany(10_000):
            out.write(b"\n".join(row[0] for row in rows) + b"\n")
    read = time.perf_counter() - started
    found = duckdb.connect().execute(_TENDERS_SQL, [str(lines)]).fetchall()
    lines.unlink()
    return (
        {(loc, tender): int(total) for loc, tender, total in found},
        read,
        time.perf_counter() - started - read,
    )


# -- the run --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--locations", type=int, default=1000, help="location-days (one business date)")
    parser.add_argument("--workers", type=int, default=2, help="processes closing location-days")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--check", type=int, default=5, help="location-days compared with the close in memory"
    )
    parser.add_argument("--database", default="", help="a PostgreSQL URL (empty database) instead of SQLite")
    parser.add_argument("--columnar", action="store_true", help="also the tender totals through DuckDB")
    args = parser.parse_args()
    database = database_for(args)
    if args.database or not Path(database).exists():
        started = time.perf_counter()
        partial = database + ".partial" if not args.database else database
        stored = asyncio.run(populate(partial, args.locations, args.seed, args.workers))
        if not args.database:
            os.replace(partial, database)
        print(f"populate: {stored:,} orders in {time.perf_counter() - started:.1f} s → {database}")
    else:
        print(f"populate: cached {database} ({Path(database).stat().st_size / 2**20:,.0f} MiB)")

    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    results: dict[int, dict[str, Any]] = {}
    totals: dict[str, float] = {}
    for result in run_close(database, args.locations, args.workers):
        results[result["number"]] = result
        for key in ("orders", "read_s", "summary_s", "journal_s", "usage_s"):
            totals[key] = totals.get(key, 0) + result[key]
    wall = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    peak = max(_peak_mib(resource.RUSAGE_SELF), _peak_mib(resource.RUSAGE_CHILDREN))
    print(
        f"close:    {args.locations:,} location-days, {int(totals['orders']):,} orders,"
        f" {args.workers} worker(s): wall {wall:.1f} s, CPU {cpu:.1f} s (read {totals['read_s']:.1f},"
        f" summary {totals['summary_s']:.1f}, journal {totals['journal_s']:.1f},"
        f" usage {totals['usage_s']:.1f}), peak RSS {peak:.0f} MiB per process,"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    projected = wall * 1000 / args.locations
    print(
        f"target:   < 10 s wall for 1,000 location-days: {'met' if projected < 10 else 'NOT met'}"
        f" ({wall:.1f} s" + ("" if args.locations == 1000 else f", {projected:.0f} s scaled to 1,000") + ")"
    )
    check = min(args.check, args.locations)
    if check:
        differing = check_in_memory(results, check, args.seed)
        print(f"check:    {check} location-days, database vs memory: {differing} differing")
    if args.columnar and args.database:
        print("columnar: SQLite only (DuckDB is handed the payloads read with sqlite3)")
    elif args.columnar:
        _columnar(database, results)


def _columnar(database: str, results: dict[int, dict[str, Any]]) -> None:
    try:
        totals, read, summed = columnar_tenders(database, Path(database).parent)
    except ImportError as exc:
        print(f"columnar: skipped ({exc.name} is not installed)")
        return
    mismatched = 0
    for number, result in results.items():
        location_id = sim_location(number).id
        for account, amount in result["tenders"].items():
            tender = next(t for t, a in MAPPINGS.tender_accounts.items() if a == account)
            if tender not in COLUMNAR_TENDERS:
                continue
            if totals.get((location_id, tender)) != amount:
                mismatched += 1
    print(
        f"columnar: DuckDB tender totals: read {read:.1f} s (sqlite3 → NDJSON), summed {summed:.1f} s;"
        f" {mismatched} of the journal's card and cash debits differ"
    )


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


if __name__ == "__main__":
    main()
