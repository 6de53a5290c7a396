"""The hub's menu routes its kitchen: an imported menu at once, the stored menu again after a
restart (its newest version of each item), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from expediter.catalog.schema import Catalog, Flow, Hub, Level, Mappings, System, SystemKind, Trigger
from expediter.engine import imports
from expediter.engine.menu import MENU_KIND
from expediter.model.location import Location
from expediter.model.menu import MenuItem
from expediter.model.money import Money
from expediter.operations.kitchen import Kitchen
from expediter.plugin.base import IncomingMessage
from expediter.runtime import Runtime
from tests.operations.kitchen.helpers import line, order

LOCATION = Location(id="L1", name="Bistro", timezone="America/New_York")
OTHER = Location(id="L2", name="Harbor", timezone="America/New_York")
MENU = "item_id,name,category,price,plu,stations\nB1,Burger,burgers,14.50,1101,fry\nS1,Salad,salads,9.00,,\n"


def menu_catalog(database: str, tmp_path: Path) -> Catalog:
    return Catalog(
        hub=Hub(database=database, data_dir=str(tmp_path / "data")),
        locations=[LOCATION, OTHER],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(id="kds", kind=SystemKind.KDS, connector="kds", owner="Chef"),
        ],
        flows=[
            Flow(
                id="menu",
                from_="pos",
                to="kds",
                data="menu_items",
                level=Level.MANUAL,
                trigger=Trigger.MANUAL,
                transport="upload",
                owner="GM",
                description="A manager imports the menu.",
                impact="The kitchen routes by the menu it had.",
                contact="gm@bistro.example",
            )
        ],
        mappings=Mappings(stations={"burgers": ["grill"], "salads": ["cold"]}),
    )


def with_runtime(catalog: Catalog, scenario: Callable[[Runtime, Kitchen], Awaitable[None]]) -> None:
    async def main() -> None:
        runtime = Runtime(catalog, schedule=False, watch=False)
        await runtime.start()
        try:
            assert isinstance(runtime.kitchen, Kitchen)
            await scenario(runtime, runtime.kitchen)
        finally:
            await runtime.stop()

    asyncio.run(main())


async def stations_of(kitchen: Kitchen, order_id: str, location: str = "L1", **line_fields: Any) -> list[str]:
    """The stations (expo aside) an order of one burger line is routed to."""
    lines = [line("l-1", "Burger", **line_fields)]
    body = msgspec.structs.replace(order(order_id, lines=lines), location_id=location)
    tickets = await kitchen.receive(body)
    return sorted({t.station for t in tickets} - {"expo"})


def test_an_imported_menu_routes_at_once_and_again_after_a_restart(database: str, tmp_path: Path) -> None:
    catalog = menu_catalog(database, tmp_path)

    async def first(runtime: Runtime, kitchen: Kitchen) -> None:
        assert await stations_of(kitchen, "o-1", item_id="B1") == ["grill"]  # no menu yet: the category
        flow = catalog.flow("menu")
        assert flow is not None
        request = imports.ImportRequest(
            flow=flow, location=LOCATION, business_date=date(2026, 11, 26), file_name="menu.csv"
        )
        data = MENU.encode()
        record = await imports.read_file(runtime.hub, request, io.BytesIO(data), size=len(data))
        await imports.commit(runtime.hub, record.id)
        assert await stations_of(kitchen, "o-2", item_id="B1") == ["fry"]
        assert await stations_of(kitchen, "o-3", plu="1101") == ["fry"]  # by the item's PLU
        assert await stations_of(kitchen, "o-4", item_id="S1", category="salads") == ["cold"]  # none listed
        assert await stations_of(kitchen, "o-5", item_id="B1", location="L2") == ["grill"]  # L1's menu only
        assert await stations_of(kitchen, "o-6", item_id="B1", stations=["bar"]) == ["bar"]  # the order's own
        newer = MenuItem(
            id="B1", name="Burger", category="burgers", price=Money(1450), stations=["grill", "fry"]
        )
        await runtime.hub.inbox.accept(  # as the group sends it down, stored without a live kitchen
            IncomingMessage(
                source_system="group",
                kind=MENU_KIND,
                idempotency_key="group:down:1",
                payload=msgspec.json.encode(newer),
                location_id="L1",
            ),
            ref="B1",
        )

    async def after_restart(runtime: Runtime, kitchen: Kitchen) -> None:
        assert await stations_of(kitchen, "o-7", item_id="B1") == ["fry", "grill"]  # the newest version
        assert "fry" in kitchen.stations()

    with_runtime(catalog, first)
    with_runtime(catalog, after_restart)


def test_the_same_menu_item_told_again_changes_nothing(tmp_path: Path) -> None:
    catalog = menu_catalog(str(tmp_path / "hub.db"), tmp_path)
    item = MenuItem(id="B1", name="Burger", category="burgers", price=Money(1450), stations=["fry"])

    async def scenario(runtime: Runtime, kitchen: Kitchen) -> None:
        kitchen.use_menu("L1", [item])
        once = dict(kitchen.rules.menu_stations)
        kitchen.use_menu("L1", [item])
        assert kitchen.rules.menu_stations == once == {"L1": {"B1": ["fry"]}}

    with_runtime(catalog, scenario)
