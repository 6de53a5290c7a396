"""A small stored day and a catalog on disk for the command tests (no servers: folders only)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
from typer.testing import CliRunner

import expediter.demo
from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.cli import app
from expediter.engine.hub import Hub
from expediter.model.location import Location
from expediter.plugin.base import IncomingMessage
from expediter.sim.day import simulate_day
from tests.e2e.test_daily_close import MAPPINGS

DAY = date(2026, 11, 26)
LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")
RECIPES = Path(expediter.demo.__file__).parent / "recipes.toml"
WIDE = {"COLUMNS": "200"}
QBO_IDS = {
    account: str(100 + n)
    for n, account in enumerate(
        sorted(
            {
                *MAPPINGS.category_accounts.values(),
                *MAPPINGS.discount_accounts.values(),
                *MAPPINGS.tender_accounts.values(),
                *MAPPINGS.accounts.values(),
            }
        )
    )
}
"""QuickBooks account Ids of every mapped account: the QBO JournalEntry body needs Ids, not names."""


def flow(flow_id: str, to: str, data: str, *, level: Level = Level.FILE, **extra: Any) -> Flow:
    manual = level is Level.MANUAL
    return Flow(
        id=flow_id,
        from_="inventory" if manual else "pos",
        to=to,
        data=data,
        level=level,
        trigger=Trigger.MANUAL if manual else Trigger.SCHEDULE,
        schedule=None if manual else "0 5 * * *",
        transport="upload" if manual else "folder",
        owner="Controller",
        **extra,
    )


def catalog(tmp_path: Path, *, data_dir: str = "data", database: str | None = None) -> Catalog:
    """``database``: the ``database`` fixture's (SQLite or PostgreSQL); by default ``hub.db``. A
    relative ``data_dir`` is under ``tmp_path`` (on PostgreSQL it would be the working folder's)."""
    drop = {"transport": {"inbox_dir": str(tmp_path / "drop")}}
    if database is not None and not Path(data_dir).is_absolute():
        data_dir = str(tmp_path / data_dir)
    return Catalog(
        hub=HubSettings(database=database or str(tmp_path / "hub.db"), data_dir=data_dir),
        locations=[LOCATION],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(
                id="qb",
                kind=SystemKind.ACCOUNTING,
                connector="quickbooks",
                owner="C",
                settings={**drop, "account_ids": QBO_IDS},
            ),
            System(id="xero", kind=SystemKind.ACCOUNTING, connector="xero", owner="C", settings=drop),
            System(
                id="inventory",
                kind=SystemKind.INVENTORY,
                connector="csv",
                owner="Chef",
                settings={"recipes": str(RECIPES), **drop},
            ),
        ],
        flows=[
            flow("qb-iif", "qb", "journal"),
            flow("qb-json", "qb", "journal", format="qbo_json"),
            flow("xero-journal", "xero", "journal"),
            flow("sales", "inventory", "sales_summary"),
            flow("counts", "inventory", "inventory_counts", level=Level.MANUAL),
            flow("sales-upload", "inventory", "sales_summary", level=Level.MANUAL),
        ],
        mappings=MAPPINGS,
    )


def store_day(catalog: Catalog, scale: float = 0.05) -> None:
    day = simulate_day(LOCATION, DAY, seed=5, scale=scale)

    async def fill() -> None:
        async with Hub(catalog, deliver=False) as hub:
            for order in day.orders:
                message = IncomingMessage(
                    source_system="pos",
                    kind="orders",
                    idempotency_key=f"pos:orders:{order.id}:{order.version}",
                    payload=msgspec.json.encode(order),
                    location_id=LOCATION.id,
                )
                await hub.inbox.accept(message, ref=order.id, business_date=order.business_date)

    asyncio.run(fill())


def write_catalog(tmp_path: Path, found: Catalog) -> str:
    path = tmp_path / "expediter.json"
    path.write_bytes(msgspec.json.encode(found))
    return str(path)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    return result.exit_code, result.output
