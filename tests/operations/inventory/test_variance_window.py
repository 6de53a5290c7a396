"""Variance sets actual use since the opening count against the sales of those same days."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from expediter.catalog.schema import Catalog, Hub
from expediter.engine.jobs import inventory_lookups
from expediter.formats.csv import ExportFile, read_csv
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Order
from expediter.operations.inventory.export import (
    COUNTS_EXTRA,
    INVENTORY_VARIANCE_V1,
    ORDERS_EXTRA,
    CountsOnFile,
    FileOptions,
    export_inventory,
    usage_files,
)
from expediter.operations.inventory.recipes import load_recipe_book
from expediter.plugin.base import ExportRequest
from expediter.storage import open_storage
from expediter.storage.base import Tx
from expediter.storage.blocking import EXTRA_KEY as BLOCKING_STORAGE
from expediter.storage.blocking import blocking_storage

RECIPES = (
    '[ingredients.beef]\nunit = "lb"\nunit_cost = 5\n'
    '[recipes.burger]\nplu = "B1"\ncomponents = [{ingredient="beef", quantity=0.25, unit="lb"}]\n'
)
BOOK = load_recipe_book(RECIPES)
OPENING_DATE = date(2026, 3, 2)
DAY = date(2026, 3, 9)
# 40 burgers (10 lb of beef) sold every day; 100 lb counted on the 2nd, 30 lb on the 9th: 70 lb used
# over the seven days since the opening count, exactly what seven days of sales took. No waste.
COUNTS = CountsOnFile(
    opening="ingredient,unit,quantity\nbeef,lb,100\n",
    opening_date=OPENING_DATE,
    closing="ingredient,unit,quantity\nbeef,lb,30\n",
    closing_date=DAY,
)
LOCATION = Location(id="L", name="L", timezone="UTC")


def burgers(day: date) -> Order:
    return Order(
        id=f"o-{day}",
        location_id="L",
        opened_at=datetime(day.year, day.month, day.day, 18, tzinfo=UTC),
        business_date=day,
        lines=[Line(id="l", name="Burger", plu="B1", quantity=Decimal(40), unit_price=Money(1000))],
        version=2,
    )


WEEK = [burgers(OPENING_DATE + timedelta(days=n)) for n in range(1, 8)]


def _variance(files: list[ExportFile]) -> dict[str, Any]:
    [found] = [f for f in files if f.name.startswith("inventory_variance")]
    [row] = read_csv(INVENTORY_VARIANCE_V1, found.content)
    return row


def test_theoretical_usage_covers_every_day_since_the_opening_count() -> None:
    files = usage_files("L", DAY, [WEEK[-1]], BOOK, COUNTS, since_opening=WEEK)
    row = _variance(files)
    assert (row["theoretical"], row["actual"], row["variance"]) == (Decimal(70), Decimal(70), Decimal(0))
    assert row["opening_date"] == OPENING_DATE


def test_without_the_days_since_the_opening_count_no_variance_is_written() -> None:
    files = usage_files("L", DAY, [WEEK[-1]], BOOK, COUNTS)
    assert [f.name.split("_v1_")[0] for f in files] == ["inventory_usage", "missing_recipes"]


def _catalog(tmp_path: Path) -> Catalog:
    (tmp_path / "recipes.toml").write_text(RECIPES)
    return Catalog(hub=Hub(database=str(tmp_path / "hub.db")), locations=[LOCATION])


def _request(catalog: Catalog, extra: dict[str, object]) -> ExportRequest:
    return ExportRequest(
        catalog=catalog,
        location=LOCATION,
        start_date=DAY,
        end_date=DAY,
        orders=lambda: [WEEK[-1]],
        punches=lambda: (),
        extra=extra,
    )


def test_a_one_day_export_reads_the_earlier_days_from_the_lookup(tmp_path: Path) -> None:
    asked: list[tuple[date, date]] = []

    def earlier(location_id: str, first: date, last: date) -> list[Order]:
        asked.append((first, last))
        return [o for o in WEEK if first <= (o.business_date or DAY) <= last]

    extra: dict[str, object] = {COUNTS_EXTRA: lambda _loc, _day: COUNTS, ORDERS_EXTRA: earlier}
    recipes = str(tmp_path / "recipes.toml")
    files = export_inventory("inventory_usage", _request(_catalog(tmp_path), extra), recipes, FileOptions())
    assert asked == [(date(2026, 3, 3), date(2026, 3, 8))]
    assert _variance(files)["variance"] == Decimal(0)


def test_a_one_day_export_reads_counts_and_earlier_orders_from_the_database(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    older_version = msgspec.structs.replace(WEEK[0], lines=[], version=1)
    stored = [
        ("orders", o.id, o.business_date, msgspec.json.encode(o)) for o in [older_version, *WEEK[:-1]]
    ] + [
        ("inventory_counts", "L:open", OPENING_DATE, (COUNTS.opening or "").encode()),
        ("inventory_counts", "L:close", DAY, (COUNTS.closing or "").encode()),
    ]
    asyncio.run(_store(catalog.hub.database, stored))
    recipes = str(tmp_path / "recipes.toml")
    with blocking_storage(catalog.hub.database) as storage:  # as the engine hands it to the exporter
        lookups = inventory_lookups(storage)
        assert len(lookups[ORDERS_EXTRA]("L", date(2026, 3, 3), DAY)) == 7
        extra = {BLOCKING_STORAGE: storage, **lookups}
        files = export_inventory("inventory_usage", _request(catalog, extra), recipes, FileOptions())
    row = _variance(files)
    assert (row["theoretical"], row["variance"]) == (Decimal(70), Decimal(0))


async def _store(database: str, rows: list[tuple[str, str, date | None, bytes]]) -> None:
    storage = open_storage(database)
    await storage.start()
    try:

        def insert(tx: Tx) -> None:
            for n, (kind, ref, day, payload) in enumerate(rows):
                tx.insert(
                    "INSERT INTO messages (idempotency_key, source_system, kind, ref, location_id,"
                    " business_date, received_at, content_type, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [f"k{n}", "test", kind, ref, "L", str(day), "2026-03-09T23:00:00Z", "text/csv", payload],
                )

        await storage.write(insert)
    finally:
        await storage.stop()
