"""Test connectors at the edge: a sink that records what it receives and fails on command."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.model.location import Location
from expediter.plugin.base import (
    Capability,
    Connector,
    ConnectorContext,
    IncomingMessage,
    Outbound,
    Receipt,
)

Behaviour = Callable[[Outbound], Awaitable[None]]


@dataclass
class Board:
    """What every test sink received, in order, per destination; and how each should behave."""

    received: list[Outbound] = field(default_factory=list)
    attempts: list[Outbound] = field(default_factory=list)
    behaviour: dict[str, Behaviour] = field(default_factory=dict)

    def delivered_to(self, destination: str) -> list[Outbound]:
        return [o for o in self.received if o.destination == destination]


class BoardSink:
    def __init__(self, board: Board, system_id: str) -> None:
        self.board = board
        self.system_id = system_id

    async def deliver(self, item: Outbound) -> Receipt:
        self.board.attempts.append(item)
        behaviour = self.board.behaviour.get(self.system_id)
        if behaviour is not None:
            await behaviour(item)
        self.board.received.append(item)
        return Receipt(records=1, bytes=len(item.payload), remote_ref=f"test://{self.system_id}")


class SplitProcessor:
    """Turns a raw ``raw.batch`` message (a JSON list of ids) into one ``orders`` message per id."""

    def __init__(self, system_id: str) -> None:
        self.system_id = system_id

    async def process(self, item: Outbound) -> list[IncomingMessage]:
        ids = msgspec.json.decode(item.payload, type=list[str])
        return [
            IncomingMessage(
                source_system=self.system_id,
                kind="orders",
                idempotency_key=f"{self.system_id}:{order_id}",
                payload=msgspec.json.encode({"id": order_id}),
                location_id=item.location_id,
            )
            for order_id in ids
        ]


def _board_sink(context: ConnectorContext) -> BoardSink:
    return BoardSink(context.services.extra["board"], context.system.id)


TEST_CONNECTORS = {
    "test_sink": Connector(
        name="test_sink",
        title="Recording sink",
        capabilities=frozenset({Capability.SINK}),
        make_sink=_board_sink,
    ),
    "test_source": Connector(name="test_source", title="Plain source", capabilities=frozenset()),
    "test_processing": Connector(
        name="test_processing",
        title="Source whose raw messages are processed",
        capabilities=frozenset({Capability.PROCESS}),
        make_processor=lambda context: SplitProcessor(context.system.id),
    ),
}


def system(system_id: str, connector: str, kind: SystemKind = SystemKind.KDS, **extra: Any) -> System:
    return System(id=system_id, kind=kind, connector=connector, owner="ops", **extra)


def flow(flow_id: str, source: str, destination: str, data: str = "orders", **extra: Any) -> Flow:
    return Flow(
        id=flow_id,
        from_=source,
        to=destination,
        data=data,
        level=Level.REALTIME,
        trigger=Trigger.EVENT,
        owner="ops",
        **extra,
    )


def sample_catalog(database: str, *, retry_limit: int | None = None) -> Catalog:
    """Two locations; a POS fanning orders out to a KDS, a printer, and a back office at L1 only."""
    return Catalog(
        hub=HubSettings(database=database),
        locations=[
            Location(id="L1", name="Downtown", timezone="America/New_York"),
            Location(id="L2", name="Harbor", timezone="America/Los_Angeles"),
        ],
        systems=[
            system("pos", "test_source", SystemKind.POS),
            system("online", "test_processing", SystemKind.ONLINE_ORDERING),
            system("kds", "test_sink"),
            system("printer", "test_sink", SystemKind.PRINTER),
            system("bo", "test_sink", SystemKind.BACK_OFFICE, locations=["L1"]),
        ],
        flows=[
            flow("pos-kds", "pos", "kds", retry_limit=retry_limit),
            flow("pos-printer", "pos", "printer", retry_limit=retry_limit),
            flow("pos-bo", "pos", "bo", retry_limit=retry_limit),
            flow("online-kds", "online", "kds", retry_limit=retry_limit),
        ],
    )


def order_message(n: int, location: str = "L1", source: str = "pos") -> IncomingMessage:
    return IncomingMessage(
        source_system=source,
        kind="orders",
        idempotency_key=f"{source}:order-{n}:1",
        payload=msgspec.json.encode({"id": f"order-{n}", "n": n}),
        location_id=location,
    )


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 30.0
) -> None:
    """Wait until ``check`` holds; fail (not hang) if it never does. Not a timing assertion: the
    deadline is only a guard against a hang, generous enough for a loaded 2-core machine."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        await asyncio.sleep(0.005)
