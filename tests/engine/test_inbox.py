"""The inbox stores each message once, durably, with its deliveries."""

from __future__ import annotations

import asyncio
from pathlib import Path

from expediter.engine.hub import Hub
from expediter.engine.router import delivery_key
from tests.engine.helpers import TEST_CONNECTORS, Board, order_message, sample_catalog


def test_accepted_message_survives_restart_and_a_duplicate_stores_nothing(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"

    async def scenario() -> None:
        async with Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            first = await hub.inbox.accept(order_message(1), ref="order-1")
            assert not first.duplicate
        async with Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            again = await hub.inbox.accept(order_message(1), ref="order-1")
            assert again.duplicate and again.message_id == first.message_id
            assert await hub.inbox.count() == 1
            stored = await hub.inbox.latest_by_ref("orders", "order-1")
            assert stored is not None and stored.payload == order_message(1).payload
            assert stored.source_system == "pos" and stored.location_id == "L1"
            pending = await hub.deliveries.records()
            assert len(pending) == 3  # kds, printer, back office; none added by the duplicate

    asyncio.run(scenario())


def test_duplicates_within_one_commit_are_one_message(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = tmp_path / "hub.db"
        async with Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            results = await asyncio.gather(*(hub.inbox.accept(order_message(7)) for _ in range(20)))
            assert sum(not r.duplicate for r in results) == 1
            assert len({r.message_id for r in results}) == 1
            assert await hub.inbox.count() == 1

    asyncio.run(scenario())


def test_router_fans_out_by_flow_and_location(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = tmp_path / "hub.db"
        async with Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            at_l1 = await hub.inbox.accept(order_message(1, "L1"))
            at_l2 = await hub.inbox.accept(order_message(2, "L2"))
            unrelated = await hub.inbox.accept(order_message(3, "L1", source="kds"))
            records = await hub.deliveries.records()
        by_message: dict[int, set[str]] = {}
        for record in records:
            by_message.setdefault(record.message_id, set()).add(record.destination)
        assert by_message[at_l1.message_id] == {"kds", "printer", "bo"}
        assert by_message[at_l2.message_id] == {"kds", "printer"}  # bo serves L1 only
        assert unrelated.message_id not in by_message
        keys = {r.delivery_key for r in records}
        assert delivery_key("pos-kds", at_l1.message_id) in keys

    asyncio.run(scenario())


def test_processor_output_goes_back_through_the_inbox(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = tmp_path / "hub.db"
        board = Board()
        hub = Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, retry=None)
        hub.services["board"] = board
        async with hub:
            raw = order_message(1, source="online")
            raw.kind, raw.payload = "raw.batch", b'["a", "b"]'
            await hub.inbox.accept(raw)

            await _until(lambda: len(board.delivered_to("kds")) == 2)
            assert sorted(o.payload for o in board.delivered_to("kds")) == [b'{"id":"a"}', b'{"id":"b"}']

            async def processed() -> bool:  # its outputs may be delivered before its own state is saved
                records = await hub.deliveries.records(flow_id="online#process")
                return [r.state for r in records] == ["delivered"]

            await _until(processed)

    asyncio.run(scenario())


async def _until(check) -> None:  # type: ignore[no-untyped-def]
    from tests.engine.helpers import eventually

    await eventually(check)
