"""Benchmark: a million-row vendor price list through ``expediter import``, as a manager runs it.

Writes a price list of ``--rows`` rows (a distributor's whole catalog: vendor item, description,
unit, unit price, pack; one row in ``--bad-every`` has a price that is not a number, and the last
row repeats the first item) in Windows-1252 with semicolons and decimal commas (Excel's CSV where
the decimal mark is a comma), then runs ``expediter import prices FILE --quarantine OUT.csv`` in its
own process against a hub database on disk (SQLite, WAL, synchronous=FULL), and prints:

- rows/s: rows read, checked, staged and committed per wall-clock second, and per CPU-second of the
  import process (the machine is shared: the wall-clock figure follows the load average, printed
  too);
- peak memory: the import process's peak resident set size (``resource.getrusage`` of the child,
  a high-water mark of the whole process: Python, SQLite's page cache, everything); with
  ``--tracemalloc`` also the peak of Python's own allocations, measured in this process on a
  smaller file (tracemalloc slows the reading down, so it is not timed);
- what the import found: rows good and quarantined, the database size.

Usage::

    .venv/bin/python bench/imports.py [--rows 1000000] [--bad-every 1000] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import msgspec

from expediter.catalog.schema import Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.model import clock
from expediter.model.location import Location

EXPEDITER = Path(sys.executable).with_name("expediter")


def write_catalog(folder: Path) -> Path:
    catalog = Catalog(
        hub=Hub(database=str(folder / "hub.db"), data_dir=str(folder / "data")),
        locations=[Location(id="L001", name="Bench", timezone="America/New_York")],
        systems=[
            System(id="valley", kind=SystemKind.VENDOR, connector="x12", owner="bench"),
            System(id="inventory", kind=SystemKind.INVENTORY, connector="csv", owner="bench"),
        ],
        flows=[
            Flow(
                id="prices",
                from_="valley",
                to="inventory",
                data="price_list",
                level=Level.MANUAL,
                trigger=Trigger.MANUAL,
                transport="upload",
                owner="bench",
            )
        ],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def write_price_list(path: Path, rows: int, bad_every: int) -> int:
    """The file, streamed to disk; returns the rows that should be quarantined."""
    bad = 0
    with path.open("w", encoding="cp1252", newline="") as out:
        out.write("Vendor Item;Description;Unit;Unit Price;Pack\r\n")
        for n in range(1, rows):
            price = "n/a" if bad_every and n % bad_every == 0 else f"{n % 300},{n % 100:02d}"
            bad += price == "n/a"
            out.write(f'{n:07d};"Crème fraîche, tub {n}";CS;{price};6/5 LB\r\n')
        out.write('0000001;"Crème fraîche, again";CS;1,00;6/5 LB\r\n')  # listed twice
    return bad + 1


def run_import(catalog: Path, sheet: Path, quarantine: Path) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS MiB, output) of ``expediter import`` in its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(EXPEDITER), "import", "prices", str(sheet), "--quarantine", str(quarantine), "-c", str(catalog)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 2):
        raise SystemExit(f"expediter import failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, cpu, after.ru_maxrss / 1024, done.stdout


def python_peak(rows: int, bad_every: int) -> tuple[int, float]:
    """Rows and the peak of Python's allocations (MiB) for an import of ``rows`` rows in this
    process, measured with tracemalloc."""
    from expediter.engine import imports
    from expediter.engine.hub import Hub as HubProcess
    from expediter.web.app import read_catalog

    folder = Path(tempfile.mkdtemp(prefix="expediter-bench-imports-tm-"))
    try:
        catalog = read_catalog(write_catalog(folder))
        sheet = folder / "prices.csv"
        write_price_list(sheet, rows, bad_every)
        flow = catalog.flows[0]
        request = imports.ImportRequest(
            flow=flow,
            location=catalog.locations[0],
            business_date=catalog.locations[0].business_date_for(clock.now()),
            file_name=sheet.name,
        )

        async def work() -> int:
            async with HubProcess(catalog, deliver=False) as hub:
                with sheet.open("rb") as stream:
                    record = await imports.read_file(hub, request, stream, size=sheet.stat().st_size)
                await imports.commit(hub, record.id)
                await imports.write_quarantine(hub.storage, record.id, io.BytesIO())
                return record.rows_read

        tracemalloc.start()
        read = asyncio.run(work())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return read, peak / 2**20
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad-every", type=int, default=1000, help="one row in N is quarantined (0: none)")
    parser.add_argument(
        "--tracemalloc",
        type=int,
        nargs="?",
        const=200_000,
        default=0,
        metavar="ROWS",
        help="also measure Python's peak allocations on a file of ROWS rows (default 200,000)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="expediter-bench-imports-"))
    try:
        catalog = write_catalog(folder)
        sheet = folder / "prices.csv"
        expected_bad = write_price_list(sheet, args.rows, args.bad_every)
        size = sheet.stat().st_size
        print(
            f"expediter import: {args.rows:,} rows, {size / 2**20:.1f} MiB, Windows-1252, semicolons, "
            f"{expected_bad:,} bad rows; {os.cpu_count()} cores"
        )
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        wall, cpu, rss, output = run_import(catalog, sheet, folder / "quarantine.csv")
        print(f"load average after:  {os.getloadavg()[0]:.2f}")
        quarantined = (folder / "quarantine.csv").read_bytes().count(b"\r\n") - 1
        summary = next((line for line in output.splitlines() if " rows: " in line), output.strip()[:200])
        print(f"  {summary.strip()}")
        print(f"  quarantine file: {quarantined:,} rows (expected {expected_bad:,})")
        print(f"  rows/s:      {args.rows / wall:,.0f} per wall-clock second ({wall:.1f} s)")
        print(f"               {args.rows / cpu:,.0f} per CPU-second of the import process ({cpu:.1f} s)")
        print(f"  peak memory: {rss:,.0f} MiB resident (the import process, getrusage)")
        database = sum(p.stat().st_size for p in folder.glob("hub.db*"))
        print(f"  database:    {database / 2**20:,.0f} MiB after the import (rows kept with the price list)")
        if args.tracemalloc:
            rows, peak = python_peak(args.tracemalloc, args.bad_every)
            print(
                f"  Python peak: {peak:,.1f} MiB allocated at most"
                f" (tracemalloc, {rows:,} rows in this process)"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
