"""A hub with the nightly files going to local folders, a simulated day stored in it, and the
moment ("now") at which the day's files are due: shared by the reconciliation and healing tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from expediter.catalog.schema import AccountType, Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub
from expediter.engine.schedule_time import business_day_end, closes_business_date
from expediter.model import clock
from expediter.model.labor import TimePunch
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.plugin.base import IncomingMessage
from expediter.sim.day import simulate_day
from expediter.sim.menu import CATEGORIES

LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")
MAPPINGS = Mappings(
    category_accounts={category: "4000 Food Sales" for category in CATEGORIES},
    discount_accounts={"employee meal": "4910 Employee Meals", "happy hour": "4900 Discounts"},
    tender_accounts={"cash": "1000 Cash", "card": "1010 Card Clearing", "marketplace": "1020 Marketplace"},
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
NIGHTLY = {
    "nightly-journal": ("books", "journal"),
    "nightly-sales": ("back_office", "sales_summary"),
    "nightly-labor": ("back_office", "labor"),
}


def last_night() -> date:
    return closes_business_date(LOCATION, clock.now())


def due_at(day: date) -> datetime:
    """A moment after every nightly file of ``day`` was due (and after now)."""
    return max(clock.now(), business_day_end(LOCATION, day) + timedelta(hours=8))


def nightly_flow(flow_id: str, **settings: Any) -> Flow:
    to, data = NIGHTLY[flow_id]
    return Flow(
        id=flow_id,
        from_="pos",
        to=to,
        data=data,
        level=Level.FILE,
        trigger=Trigger.SCHEDULE,
        schedule="0 5 * * *",
        transport="folder",
        owner="Priya Nair (controller)",
        settings=settings,
    )


def folder_catalog(
    tmp_path: Path,
    flows: list[Flow],
    systems: tuple[System, ...] = (),
    pos: dict[str, Any] | None = None,
    database: str | None = None,
) -> Catalog:
    """``database``: the hub's (the ``database`` fixture's; ``hub.db`` in ``tmp_path`` if none)."""

    def folder(name: str) -> dict[str, Any]:
        return {"transport": {"inbox_dir": str(tmp_path / "out" / name)}}

    return Catalog(
        hub=HubSettings(database=database or str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM", settings=pos or {}),
            System(
                id="books",
                kind=SystemKind.ACCOUNTING,
                connector="beancount",
                owner="Priya",
                settings=folder("books"),
            ),
            System(
                id="back_office",
                kind=SystemKind.BACK_OFFICE,
                connector="csv",
                owner="Priya",
                settings=folder("office"),
            ),
            *systems,
        ],
        flows=flows,
        mappings=MAPPINGS,
    )


async def store(hub: Hub, kind: str, item: Order | TimePunch, business_date: date) -> int:
    """One version of an order or punch, as the API stores it; its message id."""
    version = getattr(item, "version", 1)
    accepted = await hub.inbox.accept(
        IncomingMessage(
            source_system="pos",
            kind=kind,
            idempotency_key=f"pos:{kind}:{item.id}:{version}",
            payload=msgspec.json.encode(item),
            location_id=LOCATION.id,
        ),
        ref=item.id,
        business_date=business_date,
    )
    return accepted.message_id


async def store_day(hub: Hub, day: date, scale: float = 0.03) -> tuple[list[Order], list[TimePunch]]:
    simulated = simulate_day(LOCATION, day, seed=3, scale=scale)
    for order in simulated.orders:
        await store(hub, "orders", order, order.business_date or day)
    for punch in simulated.punches:
        await store(hub, "punches", punch, LOCATION.business_date_for(punch.clock_in))
    return simulated.orders, simulated.punches
