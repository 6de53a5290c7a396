"""Orders and a started kitchen for the kitchen tests, on a real database: a test's folder (a SQLite
``hub.db`` in it) or the ``database`` fixture (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Modifier, ModifierAction, Order
from expediter.operations.kitchen import Kitchen, KitchenSettings, KitchenStore
from expediter.plugin.base import IncomingMessage
from expediter.storage import open_storage
from tests.clocks import SUITE_STARTED

T = TypeVar("T")
OPENED = SUITE_STARTED
CATEGORIES = {"burgers": ["grill"], "salads": ["cold"], "drinks": ["bar"], "sides": ["fry"]}


def line(line_id: str, name: str, category: str = "burgers", qty: int = 1, **kw: Any) -> Line:
    return Line(id=line_id, name=name, quantity=Decimal(qty), unit_price=Money(1000), category=category, **kw)


def mod(name: str, action: ModifierAction = ModifierAction.ADD, **kw: Any) -> Modifier:
    return Modifier(name=name, action=action, **kw)


def order(order_id: str = "o-1", lines: list[Line] | None = None, version: int = 1, **kw: Any) -> Order:
    return Order(
        id=order_id,
        location_id="loc-1",
        opened_at=kw.pop("opened_at", OPENED),
        lines=lines if lines is not None else [burger()],
        version=version,
        external_id=kw.pop("external_id", "101"),
        table=kw.pop("table", "12"),
        **kw,
    )


def burger(line_id: str = "l-1") -> Line:
    return line(
        line_id,
        "Classic Burger",
        modifiers=[mod("onions", ModifierAction.REMOVE), mod("Fries", station="fry", modifier_id="fries")],
    )


class Emitted:
    """Collects what the kitchen emits (the hub's ``inbox.accept`` in production)."""

    def __init__(self) -> None:
        self.messages: list[IncomingMessage] = []

    async def __call__(self, message: IncomingMessage) -> None:
        self.messages.append(message)

    def kinds(self, kind: str) -> list[IncomingMessage]:
        return [m for m in self.messages if m.kind == kind]


def kitchen_database(where: Path | str) -> str:
    """A database as ``hub.database`` names it: ``hub.db`` in a folder, or the one given."""
    return str(where / "hub.db") if isinstance(where, Path) else where


def make_kitchen(
    where: Path | str,
    emitted: Emitted | None = None,
    *,
    locations: list[Location] | None = None,
    **settings: Any,
) -> Kitchen:
    """A kitchen whose store starts and stops its own storage (the hub's, in production)."""
    return Kitchen(
        KitchenStore(open_storage(kitchen_database(where)), owned=True),
        emit=emitted,
        settings=KitchenSettings(**settings),
        category_stations=CATEGORIES,
        locations=locations,
    )


def with_kitchen(kitchen: Kitchen, scenario: Callable[[Kitchen], Awaitable[T]]) -> T:
    """Start ``kitchen``, run ``scenario`` against it, stop it (all in one event loop)."""

    async def main() -> T:
        await kitchen.start()
        try:
            return await scenario(kitchen)
        finally:
            await kitchen.stop()

    return asyncio.run(main())


def stored_rows(where: Path | str, sql: str) -> list[Any]:
    """The rows ``sql`` finds in the kitchen's database (after the kitchen stopped)."""

    async def main() -> list[Any]:
        storage = open_storage(kitchen_database(where))
        await storage.start()
        try:
            return await storage.read(lambda tx: tx.all(sql))
        finally:
            await storage.stop()

    return asyncio.run(main())
