"""Benchmark of reconciliation: 1,000 location-days (20 locations × 50 business dates by default).

Seeds the hub's own database from the simulator (every check and punch through the inbox, then
each night's journal, sales summary and labor file sent to local folders through the real file
jobs, lineage and all), then reconciles every location-day in a fresh process: POS net sales
against the journal and the sales summary (each rebuilt from the versions its file carried), the
punches against the labor file, and every file against what its folder holds (read back and
checksummed). Prints wall seconds, location-days/s, rows/s (order versions, punches and files
compared) and the peak memory of the reconciling process. Usage::

    .venv/bin/python bench/reconcile.py [--locations 20] [--days 50] [--scale 0.1] [--dir DIR]

``--scale`` is the share of a full day's 1,500 checks each location-day gets (0.1 = 150).
A ``--dir`` seeded before is reused (its ``seeded`` marker says with what).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec

from expediter.catalog.schema import AccountType, Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs
from expediter.engine.reconcile import Reconciler
from expediter.engine.schedule_time import business_day_end, closes_business_date
from expediter.model import clock
from expediter.model.location import Location
from expediter.monitor.reconcile.model import CheckState
from expediter.plugin.base import IncomingMessage
from expediter.sim.day import simulate_day
from expediter.sim.locations import sim_locations
from expediter.sim.menu import CATEGORIES

FLOWS = {"nightly-journal": ("books", "journal"), "nightly-sales": ("office", "sales_summary"),
         "nightly-labor": ("office", "labor")}  # fmt: skip
BATCH = 400
"""Messages stored concurrently while seeding (they share group commits)."""


def mappings() -> Mappings:
    return Mappings(
        category_accounts={category: "4000 Food Sales" for category in CATEGORIES},
        discount_accounts={"employee meal": "4910 Employee Meals", "happy hour": "4900 Discounts"},
        tender_accounts={
            "cash": "1000 Cash",
            "card": "1010 Card Clearing",
            "marketplace": "1020 Marketplace",
        },
        accounts={
            "sales_tax": "2100 Sales Tax Payable",
            "tips_payable": "2200 Tips Payable",
            "service_charges": "4500 Service Charges",
            "auto_gratuity": "4510 Auto Gratuity",
            "gift_cards": "2300 Gift Card Liability",
            "cash_over_short": "6900 Cash Over Short",
            "comps": "4950 Comps",
            "refunds": "4960 Refunds",
            "unpaid_checks": "1200 Unpaid Checks",
        },
        account_types={"4510 Auto Gratuity": AccountType.INCOME},
    )


def catalog(folder: Path, locations: int) -> Catalog:
    def out(name: str) -> dict[str, Any]:
        return {"transport": {"inbox_dir": str(folder / "out" / name)}}

    flows = [
        Flow(id=flow_id, from_="pos", to=to, data=data, level=Level.FILE, trigger=Trigger.SCHEDULE,
             schedule="0 5 * * *", transport="folder", owner="Controller")
        for flow_id, (to, data) in FLOWS.items()
    ]  # fmt: skip
    return Catalog(
        hub=HubSettings(database=str(folder / "hub.db"), data_dir=str(folder / "data")),
        locations=sim_locations(locations),
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(
                id="books",
                kind=SystemKind.ACCOUNTING,
                connector="beancount",
                owner="Controller",
                settings=out("books"),
            ),
            System(
                id="office",
                kind=SystemKind.BACK_OFFICE,
                connector="csv",
                owner="Controller",
                settings=out("office"),
            ),
        ],
        flows=flows,
        mappings=mappings(),
    )


def nights(locations: list[Location], days: int) -> list[date]:
    last = closes_business_date(locations[0], clock.now())
    return [last - timedelta(days=n) for n in range(days)][::-1]


def _message(kind: str, item: Any, location: Location) -> IncomingMessage:
    version = getattr(item, "version", 1)
    return IncomingMessage(
        source_system="pos",
        kind=kind,
        idempotency_key=f"pos:{kind}:{item.id}:{version}",
        payload=msgspec.json.encode(item),
        location_id=location.id,
    )


async def _store_day(hub: Hub, location: Location, day: date, scale: float, seed: int) -> int:
    simulated = simulate_day(location, day, seed=seed, scale=scale)
    pending = [
        hub.inbox.accept(_message("orders", o, location), ref=o.id, business_date=o.business_date or day)
        for o in simulated.orders
    ]
    pending += [
        hub.inbox.accept(
            _message("punches", p, location), ref=p.id, business_date=location.business_date_for(p.clock_in)
        )
        for p in simulated.punches
    ]
    for start in range(0, len(pending), BATCH):
        await asyncio.gather(*pending[start : start + BATCH])
    return len(pending)


async def seed(folder: Path, locations: int, days: int, scale: float) -> dict[str, Any]:
    started = time.perf_counter()
    hub_catalog = catalog(folder, locations)
    rows = 0
    async with Hub(hub_catalog, deliver=False) as hub:
        jobs = FileJobs(hub)
        dates = nights(hub_catalog.locations, days)
        for number, location in enumerate(hub_catalog.locations):
            for day in dates:
                rows += await _store_day(hub, location, day, scale, seed=7 + number)
        stored = time.perf_counter()
        for location in hub_catalog.locations:
            for day in dates:
                for flow_id in FLOWS:
                    result = await jobs.run(flow_id, location.id, day)
                    if result.outcome != "succeeded":
                        raise SystemExit(f"{flow_id} {location.id} {day}: {result.error}")
    done = time.perf_counter()
    return {
        "locations": locations,
        "days": days,
        "scale": scale,
        "messages": rows,
        "store_seconds": round(stored - started, 1),
        "files_seconds": round(done - stored, 1),
    }


async def measure(folder: Path, locations: int, days: int) -> dict[str, Any]:
    hub_catalog = catalog(folder, locations)
    async with Hub(hub_catalog, deliver=False) as hub:
        dates = nights(hub_catalog.locations, days)
        now = business_day_end(hub_catalog.locations[0], dates[-1]) + timedelta(hours=8)
        started = time.perf_counter()
        results = await Reconciler(hub, poll=False).reconcile(
            [loc.id for loc in hub_catalog.locations], dates[0], dates[-1], now=max(now, clock.now())
        )
        wall = time.perf_counter() - started
        rows = await _rows(hub, dates)
    states = {str(state): sum(r.state is state for r in results) for state in CheckState}
    return {"wall_seconds": round(wall, 2), "location_days": locations * days, "checks": len(results),
            "rows": rows, "states": states,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}  # fmt: skip


async def _rows(hub: Hub, dates: list[date]) -> int:
    """Order versions and punches of the reconciled days, and the files checked."""

    def query(tx: Any) -> int:
        messages = tx.one(
            "SELECT COUNT(*) FROM messages WHERE kind IN ('orders', 'punches') AND business_date >= ?"
            " AND business_date <= ?",
            (dates[0].isoformat(), dates[-1].isoformat()),
        )
        files = tx.one("SELECT COUNT(*) FROM transfers WHERE file_name <> '' AND outcome = 'succeeded'")
        return int(messages[0]) + int(files[0])

    return await hub.storage.read(query)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--days", type=int, default=50)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="expediter-bench-reconcile-"))
    if args.measure:
        print(json.dumps(asyncio.run(measure(folder, args.locations, args.days))))
        return
    marker = folder / "seeded"
    wanted = {"locations": args.locations, "days": args.days, "scale": args.scale}
    if marker.exists() and {k: json.loads(marker.read_text())[k] for k in wanted} == wanted:
        seeded = json.loads(marker.read_text())
    else:
        folder.mkdir(parents=True, exist_ok=True)
        seeded = asyncio.run(seed(folder, args.locations, args.days, args.scale))
        marker.write_text(json.dumps(seeded))
    print(f"seeded {folder}: {seeded}")
    child = [sys.executable, __file__, "--measure", "--dir", str(folder)]
    child += ["--locations", str(args.locations), "--days", str(args.days)]
    figures = json.loads(
        subprocess.run(child, check=True, capture_output=True, text=True).stdout.splitlines()[-1]
    )
    wall = figures["wall_seconds"]
    print(
        f"reconciled {figures['location_days']} location-days"
        f" ({figures['checks']} checks: {figures['states']})"
        f" in {wall:.2f} s wall: {figures['location_days'] / wall:.1f} location-days/s,"
        f" {figures['rows'] / wall:,.0f} rows/s ({figures['rows']:,} order versions, punches and files);"
        f" peak memory {figures['peak_rss_mb']} MB (RSS of the reconciling process)"
    )


if __name__ == "__main__":
    main()
