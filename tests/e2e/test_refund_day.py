"""A refund reaches the books on the day it happened, through the hub's store and the journal flow:
a cash sale on 2 March refunded on 3 March (the POS re-sends the check as version 2, stored under
its sale's business date). The 2 March journal has the sale and no refund; the 3 March journal,
posted under its own document number, has the refund, and both load and balance in beancount."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
from beancount import loader
from beancount.core.data import Transaction

from expediter.catalog.schema import Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs, refunded_orders_between
from expediter.ledger.transfers import TransferOutcome
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Order, OrderState, Payment, Refund, TenderType
from expediter.plugin.base import IncomingMessage

LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")
SALE_DAY, REFUND_DAY = date(2026, 3, 2), date(2026, 3, 3)
SOLD_AT = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
MAPPINGS = Mappings(
    category_accounts={"food": "4000 Food Sales"},
    tender_accounts={"cash": "1000 Cash"},
    accounts={"refunds": "4960 Refunds", "cash_over_short": "6900 Cash Over Short"},
)


def _order(order_id: str, at: datetime, version: int = 1, refunds: tuple[Refund, ...] = ()) -> Order:
    return Order(
        id=order_id,
        location_id=LOCATION.id,
        opened_at=at,
        version=version,
        state=OrderState.COMPLETED,
        business_date=LOCATION.business_date_for(at),
        lines=[Line(id="l", name="Burger", quantity=Decimal(1), unit_price=Money(1000), category="food")],
        payments=[Payment(id="p", tender=TenderType.CASH, amount=Money(1000))],
        refunds=list(refunds),
    )


REFUND = Refund(id="r", amount=Money(1000), payment_id="p", created_at=SOLD_AT + timedelta(days=1))
STORED = [
    _order("A", SOLD_AT),
    _order("A", SOLD_AT, version=2, refunds=(REFUND,)),
    _order("B", SOLD_AT + timedelta(days=1)),
    _order("OLD", SOLD_AT - timedelta(days=40), refunds=(REFUND,)),  # beyond the lookback
]


def _catalog(tmp_path: Path, database: str) -> Catalog:
    books = System(
        id="books",
        kind=SystemKind.ACCOUNTING,
        connector="beancount",
        owner="Controller",
        settings={"payee": "Bistro", "transport": {"inbox_dir": str(tmp_path / "books")}},
    )
    return Catalog(
        hub=HubSettings(database=database, data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        systems=[System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"), books],
        flows=[
            Flow(
                id="journal",
                from_="pos",
                to="books",
                data="journal",
                level=Level.FILE,
                trigger=Trigger.SCHEDULE,
                schedule="0 5 * * *",
                transport="folder",
                owner="Controller",
            )
        ],
        mappings=MAPPINGS,
    )


async def _store(hub: Hub) -> None:
    for order in STORED:
        message = IncomingMessage(
            source_system="pos",
            kind="orders",
            idempotency_key=f"pos:orders:{order.id}:{order.version}",
            payload=msgspec.json.encode(order),
            location_id=LOCATION.id,
        )
        await hub.inbox.accept(message, ref=order.id, business_date=order.business_date)


def _postings(path: Path) -> dict[str, Decimal]:
    entries, errors, _options = loader.load_file(str(path))
    assert errors == [], [e.message for e in errors]
    [transaction] = [e for e in entries if isinstance(e, Transaction)]
    sums: dict[str, Decimal] = {}
    for posting in transaction.postings:
        assert posting.units is not None and posting.units.number is not None
        sums[posting.account] = sums.get(posting.account, Decimal(0)) + posting.units.number
    assert sum(sums.values()) == 0
    return sums


def _by_suffix(sums: dict[str, Decimal], word: str) -> Decimal:
    return sum((v for k, v in sums.items() if word in k), Decimal(0))


def test_the_refund_is_journaled_on_its_own_day(tmp_path: Path, database: str) -> None:
    catalog = _catalog(tmp_path, database)

    async def scenario() -> tuple[list[str], list[str], list[Order]]:
        async with Hub(catalog, deliver=False) as hub:
            await _store(hub)
            jobs = FileJobs(hub)
            first = await jobs.run("journal", LOCATION.id, SALE_DAY)
            second = await jobs.run("journal", LOCATION.id, REFUND_DAY)
            assert first.outcome is second.outcome is TransferOutcome.SUCCEEDED, first.error + second.error
            found = await refunded_orders_between(hub, LOCATION, REFUND_DAY, REFUND_DAY)
            return first.files, second.files, found

    first, second, found = asyncio.run(scenario())
    assert [(o.id, o.version) for o in found] == [("A", 2)]  # the newest version; OLD is too old
    assert first == ["journal_L001_20260302.beancount"] and second == ["journal_L001_20260303.beancount"]
    sold = _postings(tmp_path / "books" / first[0])
    refunded = _postings(tmp_path / "books" / second[0])
    assert _by_suffix(sold, "Refunds") == 0 and _by_suffix(sold, "Cash") == Decimal("10.00")
    assert _by_suffix(refunded, "Refunds") == Decimal("10.00")
    assert _by_suffix(refunded, "Food") == Decimal("-10.00")  # B only: A's sale is not booked again
    assert _by_suffix(refunded, "Cash") == 0  # B's 10.00 in, A's 10.00 paid back out
