"""Benchmark: the nightly back-office export, one location-day and a 1,000-location chain-day.

Orders and punches come from the simulator (``expediter.sim``), generated location by location on
the fly, so the chain never sits in memory: each location's checks are generated, exported (sales
summary, product mix and labor files) and dropped before the next location starts. Export time is
measured apart from the simulator's time, since in production the orders come from storage.

Peak memory is the process's peak resident set size (``resource.getrusage``, a high-water mark);
printed after 100 and after all locations, it shows memory does not grow with the location count.

    .venv/bin/python bench/export.py                     # 1 location-day, then 1,000 locations
    .venv/bin/python bench/export.py --locations 200 --out /tmp/export   # also write the files

Targets: one location-day (~1,500 orders) < 1 s; 1,000 locations < 60 s of export time.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

from expediter.connectors.csv.connector import export_labor_day, export_sales_day
from expediter.formats.csv import ExportFile
from expediter.model.location import Location
from expediter.sim.day import iter_orders, order_count
from expediter.sim.locations import sim_location
from expediter.sim.staff import simulate_punches

BUSINESS_DATE = date(2026, 11, 20)
SEED = 42


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Totals:
    def __init__(self) -> None:
        self.export_seconds = 0.0
        self.simulate_seconds = 0.0
        self.orders = 0
        self.files = 0
        self.bytes = 0


def export_location(location: Location, totals: Totals, out: Path | None) -> None:
    """Simulate one location-day, export it, keep nothing but the counters."""
    started = time.perf_counter()
    orders = list(iter_orders(location, BUSINESS_DATE, SEED))
    punches = simulate_punches(location, BUSINESS_DATE, SEED)
    exported = time.perf_counter()
    files: list[ExportFile] = export_sales_day(location, BUSINESS_DATE, orders)
    files.append(export_labor_day(location, BUSINESS_DATE, punches))
    done = time.perf_counter()
    totals.simulate_seconds += exported - started
    totals.export_seconds += done - exported
    totals.orders += len(orders)
    totals.files += len(files)
    totals.bytes += sum(len(f.content) for f in files)
    if out is not None:
        for file in files:
            (out / file.name).write_bytes(file.content)


def one_location_day(out: Path | None) -> None:
    """Cold (first call, caches empty) and warm (second call) export of one location-day."""
    for label in ("cold", "warm"):
        totals = Totals()
        export_location(sim_location(1), totals, out)
        print(
            f"one location-day ({label}): {totals.orders} orders, export {totals.export_seconds:.3f} s "
            f"(target < 1 s), simulator {totals.simulate_seconds:.3f} s, "
            f"{totals.bytes} bytes in {totals.files} files, peak RSS {peak_rss_mib():.1f} MiB"
        )


def chain_day(count: int, out: Path | None) -> None:
    totals = Totals()
    wall = time.perf_counter()
    for number in range(1, count + 1):
        export_location(sim_location(number), totals, out)
        if number in (100, count):
            print(
                f"  after {number:>5} locations: export {totals.export_seconds:7.2f} s, "
                f"simulator {totals.simulate_seconds:7.2f} s, peak RSS {peak_rss_mib():7.1f} MiB",
                flush=True,
            )
    print(
        f"chain-day: {count} locations, {totals.orders} orders, {totals.files} files, "
        f"{totals.bytes / 1e6:.1f} MB; export {totals.export_seconds:.1f} s (target < 60 s for 1,000), "
        f"wall incl. simulator {time.perf_counter() - wall:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None, help="also write every file into this folder")
    args = parser.parse_args(argv)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    python = sys.version.split()[0]
    print(f"expediter export benchmark: ~{order_count(1.0)} orders per location-day, Python {python}")
    one_location_day(args.out)
    chain_day(args.locations, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
