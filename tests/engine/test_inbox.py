"""The inbox stores each message once, durably, with its deliveries."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import msgspec
import pytest

from expediter.engine.hub import Hub
from expediter.engine.inbox import Conflict
from expediter.errors import RejectedInput
from expediter.plugin.base import IncomingMessage
from expediter.storage.base import SQLITE
from expediter.storage.migrations import MIGRATIONS, split_statements
from tests.engine.helpers import TEST_CONNECTORS, Board, order_message, sample_catalog


def test_accepted_message_survives_restart_and_a_duplicate_stores_nothing(database: str) -> None:
    db = database

    async def scenario() -> None:
        async with Hub(sample_catalog(db), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            first = await hub.inbox.accept(order_message(1), ref="order-1")
            assert not first.duplicate
        async with Hub(sample_catalog(db), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            again = await hub.inbox.accept(order_message(1), ref="order-1")
            assert again.duplicate and again.message_id == first.message_id
            assert await hub.inbox.count() == 1
            stored = await hub.inbox.latest_by_ref("orders", "order-1")
            assert stored is not None and stored.payload == order_message(1).payload
            assert stored.source_system == "pos" and stored.location_id == "L1"
            pending = await hub.deliveries.records()
            assert len(pending) == 3  # kds, printer, back office; none added by the duplicate

    asyncio.run(scenario())


def test_duplicates_within_one_commit_are_one_message(database: str) -> None:
    async def scenario() -> None:
        db = database
        async with Hub(sample_catalog(db), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            results = await asyncio.gather(*(hub.inbox.accept(order_message(7)) for _ in range(20)))
            assert sum(not r.duplicate for r in results) == 1
            assert len({r.message_id for r in results}) == 1
            assert await hub.inbox.count() == 1

    asyncio.run(scenario())


def test_router_fans_out_by_flow_and_location(database: str) -> None:
    async def scenario() -> None:
        db = database
        async with Hub(sample_catalog(db), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
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
        [to_kds] = [r for r in records if r.message_id == at_l1.message_id and r.flow_id == "pos-kds"]
        assert to_kds.delivery_key.startswith("pos-kds:")
        assert len({r.delivery_key for r in records}) == len(records)

    asyncio.run(scenario())


def test_processor_output_goes_back_through_the_inbox(database: str) -> None:
    async def scenario() -> None:
        db = database
        board = Board()
        hub = Hub(sample_catalog(db), db, connectors=TEST_CONNECTORS, retry=None)
        hub.services.extra["board"] = board
        async with hub:
            raw = order_message(1, source="online")
            raw.kind, raw.payload = "raw.batch", b'["a", "b"]'
            await hub.inbox.accept(raw)

            async def processed() -> bool:
                records = await hub.deliveries.records(flow_id="online#process")
                return [r.state for r in records] == ["delivered"]

            # The outputs can reach the kitchen before the processing delivery is marked done.
            await _until(lambda: len(board.delivered_to("kds")) == 2)
            await _until(processed)
            assert sorted(o.payload for o in board.delivered_to("kds")) == [b'{"id":"a"}', b'{"id":"b"}']

    asyncio.run(scenario())


async def _until(check) -> None:  # type: ignore[no-untyped-def]
    from tests.engine.helpers import eventually

    await eventually(check)


def test_a_request_key_leads_to_its_message_and_other_content_is_a_conflict(database: str) -> None:
    async def scenario() -> None:
        db = database
        async with Hub(sample_catalog(db), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            first = await hub.inbox.accept(order_message(1), request_key="pos:key:K1")
            by_version = await hub.inbox.accept(order_message(1))
            by_other_key = await hub.inbox.accept(order_message(1), request_key="pos:key:K2")
            assert {first.message_id, by_version.message_id, by_other_key.message_id} == {first.message_id}
            assert (by_version.conflict, by_other_key.conflict) == (None, None)
            reused = await hub.inbox.accept(order_message(2), request_key="pos:key:K1")
            assert reused.duplicate and reused.conflict is Conflict.REQUEST_KEY
            changed = msgspec.structs.replace(order_message(1), payload=b'{"id": "order-1", "n": 99}')
            again = await hub.inbox.accept(changed)
            assert again.duplicate and again.conflict is Conflict.CONTENT
            # K2 was recorded with the duplicate: it stands for order 1 from now on.
            assert (await hub.inbox.accept(order_message(3), request_key="pos:key:K2")).conflict
            assert await hub.inbox.count() == 1

    asyncio.run(scenario())


def test_keys_stored_before_request_keys_existed_still_find_their_message(tmp_path: Path) -> None:
    """A database written before migration 0006 kept a sender's key as the message's own key."""
    db = tmp_path / "hub.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for name, script in MIGRATIONS[:5]:
            for statement in split_statements(SQLITE.ddl(script)):
                conn.execute(statement)
            conn.execute("INSERT INTO migrations VALUES (?, '2026-01-01T00:00:00+00:00')", (name,))
        conn.execute(
            "INSERT INTO messages (idempotency_key, source_system, kind, ref, location_id, received_at,"
            " content_type, payload) VALUES ('pos:key:K1', 'pos', 'orders', 'order-1', 'L1',"
            " '2026-01-01T00:00:00+00:00', 'application/json', ?)",
            (order_message(1).payload,),
        )

    async def scenario() -> None:
        async with Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            retry = await hub.inbox.accept(order_message(1), request_key="pos:key:K1")
            assert retry.duplicate and retry.conflict is None
            assert await hub.inbox.count() == 1

    asyncio.run(scenario())


def test_a_payload_holding_a_card_number_is_refused_and_not_stored(database: str) -> None:
    card = "4111-1111-1111-1111"
    note = msgspec.json.encode({"id": "order-9", "notes": f"CC-{card.replace('-', '')}"})
    sheet = f"ingredient,unit,quantity\nbeef,kg,2\n{card}-exp,each,1\n".encode()

    async def scenario() -> None:
        db = database
        async with Hub(sample_catalog(db), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            with pytest.raises(RejectedInput) as json_refusal:
                await hub.inbox.accept(msgspec.structs.replace(order_message(9), payload=note))
            assert json_refusal.value.where == "$.notes"
            counts = IncomingMessage(
                source_system="pos",
                kind="counts",
                idempotency_key="counts-1",
                payload=sheet,
                content_type="text/csv",
            )
            with pytest.raises(RejectedInput) as text_refusal:
                await hub.inbox.accept(counts)
            assert text_refusal.value.where == "line 3"
            assert await hub.inbox.count() == 0

    asyncio.run(scenario())
