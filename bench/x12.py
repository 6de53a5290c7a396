"""Benchmark: X12 810 invoices parsed, matched and booked per second (a 200-line invoice).

Three figures, each over the same 200-line 810 (written by the simulated distributor against a
200-line PO, every line matching, so every invoice is booked):

- parsed: ``read_documents`` (envelope checks + mapping to the canonical invoice);
- parsed + matched: the above plus ``match_invoice`` against the PO;
- parsed + matched + booked: the above plus storing the invoice (once per number), building the AP
  bill and keeping it, in the hub's real SQLite database (WAL, synchronous=FULL, group commit),
  ``--concurrency`` invoices in flight at once.

Each figure is printed per wall-clock second and per CPU-second of this process (the machine is
shared: with other work running, the wall-clock figure follows the load average, printed too).

Usage::

    .venv/bin/python bench/x12.py [--invoices 2000] [--lines 200] [--concurrency 50] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from expediter.formats.x12 import read_documents
from expediter.model.vendors import ItemIds, POLine, PurchaseOrder
from expediter.operations.purchasing import PurchasingStore, bill_for, match_invoice
from expediter.sim.distributor import Changes, distributor_file, invoice_810
from expediter.storage.sqlite import SqliteStorage


def order_of(lines: int) -> PurchaseOrder:
    return PurchaseOrder(
        po_number="PO-BENCH-1",
        order_date=date(2026, 3, 2),
        vendor="vendor",
        location_id="main",
        lines=[
            POLine(
                line_number=str(n),
                item=ItemIds(vendor_item=f"{100000 + n}", buyer_item=f"ing{n}"),
                description=f"ITEM {n} CASE",
                quantity=Decimal(1 + n % 5),
                unit="CA",
                unit_price=Decimal(f"{10 + n % 40}.{n % 100:02d}"),
                ingredient=f"ing{n}",
            )
            for n in range(1, lines + 1)
        ],
    )


def rate(label: str, count: int, seconds: float, cpu: float) -> None:
    print(
        f"{label:<28} {count / seconds:>8,.0f} invoices/s wall ({count} in {seconds:.2f} s),"
        f" {count / cpu:>8,.0f} per CPU-second"
    )


def parse_and_match(data: bytes, order: PurchaseOrder, match: bool) -> None:
    for document in read_documents(data).documents:
        if match and document.invoice is not None:
            match_invoice(document.invoice, order)


async def book_all(
    files: list[bytes], order: PurchaseOrder, concurrency: int, folder: Path
) -> tuple[float, float]:
    storage = SqliteStorage(folder / "bench.db")
    await storage.start()
    store = PurchasingStore(storage)
    await store.record_po(order)
    accounts = {"purchases": "5000", "accounts_payable": "2000"}

    async def one(data: bytes) -> None:
        invoice = read_documents(data).documents[0].invoice
        assert invoice is not None
        result = match_invoice(invoice, order)
        stored = await store.add_invoice(invoice, result, bill_for(invoice, result, accounts))
        assert not result.exceptions and not stored.duplicate and stored.state == "booked"

    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(files), concurrency):
        await asyncio.gather(*(one(data) for data in files[start : start + concurrency]))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await storage.stop()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print the top functions of parse + match")
    args = parser.parse_args()
    order = order_of(args.lines)
    template = invoice_810(order, Changes(), "INV-{n}", date(2026, 3, 3))
    files = [
        distributor_file([[s.replace("INV-{n}", f"INV-{n:07d}") for s in template]], "IN")
        for n in range(args.invoices)
    ]
    print(f"810 of {args.lines} lines, {len(files[0]):,} bytes; {args.invoices} invoices")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for label, match in (("parsed", False), ("parsed + matched", True)):
        started, cpu = time.perf_counter(), time.process_time()
        for data in files:
            parse_and_match(data, order, match)
        rate(label, len(files), time.perf_counter() - started, time.process_time() - cpu)
    with tempfile.TemporaryDirectory() as folder:
        elapsed, cpu = asyncio.run(book_all(files, order, args.concurrency, Path(folder)))
    rate("parsed + matched + booked", len(files), elapsed, cpu)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for data in files[:300]:
            parse_and_match(data, order, True)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
