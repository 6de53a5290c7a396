"""Deliveries: in order per lane, lanes independent, retries with backoff, dead letters, replay,
and resumption after a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import msgspec

from expediter.engine.deliveries import DeliveryState, RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError, TransientError
from expediter.ledger import TransferOutcome
from expediter.model.clock import ManualClock
from expediter.plugin.base import Capability, Connector, IncomingMessage, Outbound
from tests.clocks import SUITE_STARTED
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message, sample_catalog

FAST = RetryPolicy(base=0.001, cap=0.005)


def make_hub(db: str, board: Board, *, retry_limit: int = 8) -> Hub:
    hub = Hub(sample_catalog(db, retry_limit=retry_limit), db, connectors=TEST_CONNECTORS, retry=FAST)
    hub.services.extra["board"] = board
    return hub


def numbers(items: list[Outbound]) -> list[int]:
    return [msgspec.json.decode(o.payload)["n"] for o in items]


async def always_transient(item: Outbound) -> None:
    raise TransientError("printer offline")


def test_lanes_keep_order_and_a_failing_destination_blocks_no_other(database: str) -> None:
    board = Board(behaviour={"printer": always_transient})

    async def scenario() -> None:
        async with make_hub(database, board, retry_limit=1000) as hub:
            for n in range(30):
                await hub.inbox.accept(order_message(n, "L1" if n % 2 else "L2"))
            await eventually(
                lambda: len(board.delivered_to("kds")) == 30 and len(board.delivered_to("bo")) == 15
            )
            kds = board.delivered_to("kds")
            assert numbers([o for o in kds if o.location_id == "L1"]) == list(range(1, 30, 2))
            assert numbers([o for o in kds if o.location_id == "L2"]) == list(range(0, 30, 2))
            assert numbers(board.delivered_to("bo")) == list(range(1, 30, 2))
            assert board.delivered_to("printer") == []
            # the printer lane retries its first ticket only: strict order, nothing skipped ahead
            tried = {(o.location_id, numbers([o])[0]) for o in board.attempts if o.destination == "printer"}
            assert tried <= {("L1", 1), ("L2", 0)}

    asyncio.run(scenario())


def test_transient_failures_back_off_then_succeed_and_each_attempt_is_a_transfer(database: str) -> None:
    failures = {"left": 2}

    async def flaky(item: Outbound) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise TransientError("503 from the back office")

    board = Board(behaviour={"bo": flaky})

    async def scenario() -> None:
        async with make_hub(database, board) as hub:
            accepted = await hub.inbox.accept(order_message(1, "L1"))
            await eventually(lambda: len(board.delivered_to("bo")) == 1)
            await eventually(_state_is(hub, "pos-bo", DeliveryState.DELIVERED))
            [record] = await hub.deliveries.records(flow_id="pos-bo")
            assert record.attempts == 3
            transfers = await hub.ledger.transfers(flow_id="pos-bo")
            assert [t.outcome for t in reversed(transfers)] == [
                TransferOutcome.RETRYING,
                TransferOutcome.RETRYING,
                TransferOutcome.SUCCEEDED,
            ]
            assert all(t.message_id == accepted.message_id for t in transfers)
            assert transfers[0].checksum.startswith("sha256:") and transfers[0].records == 1
            assert "503" in transfers[-1].error
            # the same delivery key on every attempt: the sink can make the effect happen once
            assert {o.delivery_key for o in board.attempts if o.destination == "bo"} == {record.delivery_key}

    asyncio.run(scenario())


def test_retry_limit_then_dead_letter_holds_the_lane_then_replay_sends_it_first(database: str) -> None:
    board = Board(behaviour={"printer": always_transient})

    async def scenario() -> None:
        async with make_hub(database, board, retry_limit=2) as hub:
            for n in (1, 2, 3):
                await hub.inbox.accept(order_message(n, "L1"))
            await hub.inbox.accept(order_message(4, "L2"))
            await eventually(_count_dead(hub, "pos-printer", 2))  # the head of each printer lane
            await eventually(lambda: len(board.delivered_to("kds")) == 4)  # other lanes flow
            dead = await hub.deliveries.dead_letters(flow_id="pos-printer")
            assert [(d.location_id, d.attempts, d.holds_lane) for d in dead] == [
                ("L1", 3, True),
                ("L2", 3, True),
            ]
            assert all("printer offline" in d.last_error for d in dead)
            outcomes = [t.outcome for t in await hub.ledger.transfers(flow_id="pos-printer")]
            assert outcomes.count(TransferOutcome.DEAD) == 2 and outcomes.count(TransferOutcome.RETRYING) == 4
            tried = {numbers([o])[0] for o in board.attempts if o.destination == "printer"}
            assert tried == {1, 4}  # orders 2 and 3 wait behind the dead head: never tried
            [waiting_l1, waiting_l2] = await hub.deliveries.waiting_lanes()
            assert (waiting_l1.destination, waiting_l1.location_id) == ("printer", "L1")
            assert waiting_l1.head.id == dead[0].id and waiting_l1.waiting == 2
            assert waiting_l2.waiting == 0

            del board.behaviour["printer"]  # the printer is back
            await hub.inbox.accept(order_message(5, "L1"))  # stored after the outage: still waits
            assert await hub.deliveries.replay([dead[0].id]) == 1
            await eventually(lambda: len(board.delivered_to("printer")) == 4)
            assert numbers(board.delivered_to("printer")) == [1, 2, 3, 5]  # the dead head first
            assert await hub.deliveries.replay_flow("pos-printer") == 1
            await eventually(lambda: len(board.delivered_to("printer")) == 5)
            assert await hub.deliveries.dead_letters() == []
            assert await hub.deliveries.waiting_lanes() == []
            assert await hub.deliveries.replay([dead[0].id]) == 0  # not dead any more

    asyncio.run(scenario())


async def reject_first(item: Outbound) -> None:
    if numbers([item]) == [1]:
        raise TerminalError("HTTP 400: unknown menu item")


def test_a_terminal_error_is_dead_at_once_and_holds_its_lane(database: str) -> None:
    board = Board(behaviour={"kds": reject_first})

    async def scenario() -> None:
        async with make_hub(database, board) as hub:
            for n in (1, 2, 3):
                await hub.inbox.accept(order_message(n, "L2"))
            await eventually(lambda: len(board.delivered_to("printer")) == 3)
            await eventually(_count_dead(hub, "pos-kds", 1))
            [dead] = await hub.deliveries.dead_letters()
            assert dead.attempts == 1 and "unknown menu item" in dead.last_error
            assert board.delivered_to("kds") == []  # 2 and 3 wait for 1
            [waiting] = await hub.deliveries.waiting_lanes()
            assert waiting.head.state is DeliveryState.DEAD and waiting.waiting == 2

    asyncio.run(scenario())


def test_an_unordered_flow_sets_its_dead_letter_aside_and_the_lane_goes_on(database: str) -> None:
    board = Board(behaviour={"kds": reject_first})

    async def scenario() -> None:
        db = database
        catalog = sample_catalog(db)
        catalog.flows[0].ordered = False  # pos-kds: order does not matter
        hub = Hub(catalog, db, connectors=TEST_CONNECTORS, retry=FAST)
        hub.services.extra["board"] = board
        async with hub:
            for n in (1, 2, 3):
                await hub.inbox.accept(order_message(n, "L2"))
            await eventually(lambda: len(board.delivered_to("kds")) == 2)
            assert numbers(board.delivered_to("kds")) == [2, 3]

            async def one_dead() -> bool:  # its outcome is saved beside the lane's next attempts
                return len(await hub.deliveries.dead_letters()) == 1

            await eventually(one_dead)
            [dead] = await hub.deliveries.dead_letters()
            assert not dead.holds_lane and await hub.deliveries.waiting_lanes() == []

    asyncio.run(scenario())


def test_a_flow_that_stops_keeping_order_releases_its_lane_at_the_next_start(database: str) -> None:
    board = Board(behaviour={"kds": reject_first})
    db = database

    async def scenario() -> None:
        async with make_hub(db, board) as hub:
            for n in (1, 2):
                await hub.inbox.accept(order_message(n, "L2"))
            await eventually(_count_dead(hub, "pos-kds", 1))
        catalog = sample_catalog(db)
        catalog.flows[0].ordered = False
        hub = Hub(catalog, db, connectors=TEST_CONNECTORS, retry=FAST)
        hub.services.extra["board"] = board
        async with hub:
            await eventually(lambda: len(board.delivered_to("kds")) == 1)
        assert numbers(board.delivered_to("kds")) == [2]

    asyncio.run(scenario())


def test_a_five_minute_outage_is_ridden_out_by_default(database: str, clock: ManualClock) -> None:
    """Each failed attempt takes 20 s of the hub's clock: the first order is still retrying five
    minutes on (no dead letter), and everything arrives, in order, once the printer is back."""
    outage_ends = clock.now() + timedelta(minutes=5)

    async def down_for_five_minutes(item: Outbound) -> None:
        if clock.now() < outage_ends:
            clock.advance(20)
            raise TransientError("printer offline")

    board = Board(behaviour={"printer": down_for_five_minutes})

    async def scenario() -> None:
        db = database
        hub = Hub(sample_catalog(db), db, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=0, cap=0))
        hub.services.extra["board"] = board
        async with hub:
            for n in (1, 2, 3):
                await hub.inbox.accept(order_message(n, "L1"))
            await eventually(lambda: len(board.delivered_to("printer")) == 3)
            outcomes = [t.outcome for t in await hub.ledger.transfers(flow_id="pos-printer", limit=100)]
            assert TransferOutcome.DEAD not in outcomes and outcomes.count(TransferOutcome.RETRYING) == 15
        assert numbers(board.delivered_to("printer")) == [1, 2, 3]

    asyncio.run(scenario())


def test_the_default_budget_gives_up_after_72_hours_not_before(database: str, clock: ManualClock) -> None:
    started = clock.now()
    failed_at: list[timedelta] = []

    async def an_hour_per_attempt(item: Outbound) -> None:
        clock.advance(3600)
        failed_at.append(clock.now() - started)
        raise TransientError("POS down")

    board = Board(behaviour={"printer": an_hour_per_attempt})

    async def scenario() -> None:
        db = database
        hub = Hub(sample_catalog(db), db, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=0, cap=0))
        hub.services.extra["board"] = board
        async with hub:
            await hub.inbox.accept(order_message(1, "L1"))
            await eventually(_count_dead(hub, "pos-printer", 1))
            [dead] = await hub.deliveries.dead_letters()
        # Each attempt fails an hour after it began: the 71st is retried, the 72nd gives up.
        assert dead.attempts == 72 and failed_at[-1] == timedelta(hours=72)

    asyncio.run(scenario())


def test_a_restart_resumes_in_flight_deliveries_with_the_same_key(database: str) -> None:
    db = database

    async def scenario() -> None:
        in_flight = asyncio.Event()

        async def hang(item: Outbound) -> None:
            in_flight.set()
            await asyncio.Event().wait()  # the hub stops while the sink is busy

        first_board = Board(behaviour={"kds": hang})
        async with make_hub(db, first_board) as hub:
            await hub.inbox.accept(order_message(5, "L2"))
            await in_flight.wait()
        [stuck] = [o for o in first_board.attempts if o.destination == "kds"]

        second_board = Board()
        async with make_hub(db, second_board) as hub:
            await eventually(lambda: len(second_board.delivered_to("kds")) == 1)
            await eventually(_state_is(hub, "pos-kds", DeliveryState.DELIVERED))
            await eventually(_state_is(hub, "pos-printer", DeliveryState.DELIVERED))
        [resumed] = second_board.delivered_to("kds")
        assert resumed.delivery_key == stuck.delivery_key
        # The printer's delivery may have reached the sink just before the stop and be handed over
        # again after it (at-least-once): always under the same key, so its effect is once.
        printed = first_board.delivered_to("printer") + second_board.delivered_to("printer")
        assert set(numbers(printed)) == {5}
        assert len({o.delivery_key for o in printed}) == 1

    asyncio.run(scenario())


def test_unknown_destination_connector_is_a_dead_letter(database: str) -> None:
    async def scenario() -> None:
        db = database
        catalog = sample_catalog(db)
        catalog.systems[2].connector = "not_installed"
        hub = Hub(catalog, db, connectors=TEST_CONNECTORS, retry=FAST)
        hub.services.extra["board"] = Board()
        async with hub:
            await hub.inbox.accept(order_message(1, "L2"))
            await eventually(_count_dead(hub, "pos-kds", 1))
            [dead] = await hub.deliveries.dead_letters()
            assert "not_installed" in dead.last_error

    asyncio.run(scenario())


def _state_is(hub: Hub, flow_id: str, state: DeliveryState):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        records = await hub.deliveries.records(flow_id=flow_id)
        return bool(records) and all(r.state is state for r in records)

    return check


def _count_dead(hub: Hub, flow_id: str, count: int):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return len(await hub.deliveries.dead_letters(flow_id=flow_id)) == count

    return check


def test_a_hanging_sink_times_out_as_a_transient_failure(database: str) -> None:
    async def hang(item: Outbound) -> None:
        await asyncio.Event().wait()

    async def scenario() -> None:
        db = database
        hub = Hub(
            sample_catalog(db, retry_limit=1),
            db,
            connectors=TEST_CONNECTORS,
            retry=FAST,
            attempt_timeout=0.05,
        )
        hub.services.extra["board"] = Board(behaviour={"printer": hang})
        async with hub:
            await hub.inbox.accept(order_message(1, "L2"))
            await eventually(_count_dead(hub, "pos-printer", 1))
            [dead] = await hub.deliveries.dead_letters()
            assert dead.attempts == 2 and "no answer within 0.05 s" in dead.last_error

    asyncio.run(scenario())


def test_backoff_doubles_with_jitter_up_to_the_cap_and_honours_retry_after() -> None:
    policy = RetryPolicy(base=1.0, cap=30.0, longest_wait=120.0)
    for attempt, step in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0), (20, 30.0)]:
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len(set(delays)) > 1  # jittered: retries of many deliveries do not stampede
    assert policy.delay(1, retry_after=12.0) == 12.0
    assert policy.delay(1, retry_after=600.0) == 120.0  # never beyond the longest wait
    assert RetryPolicy().cap == 60.0  # by default a destination that is back is tried within a minute


class CanonicalProcessor:
    """Maps each raw id to a canonical order; the id ``nan`` maps to a quantity of NaN."""

    async def process(self, item: Outbound) -> list[IncomingMessage]:
        [order_id] = msgspec.json.decode(item.payload, type=list[str])
        quantity = "NaN" if order_id == "nan" else "1"
        order = {
            "id": order_id,
            "location_id": "L1",
            "opened_at": SUITE_STARTED.isoformat(),
            "lines": [{"id": "1", "name": "Burger", "quantity": quantity, "unit_price": {"amount": 900}}],
        }
        return [
            IncomingMessage(
                source_system="online",
                kind="orders",
                idempotency_key=f"online:{order_id}:1",
                payload=msgspec.json.encode(order),
                location_id="L1",
            )
        ]


def test_a_processor_output_out_of_bounds_is_a_dead_letter_at_once_and_the_lane_goes_on(
    database: str,
) -> None:
    connectors = {
        **TEST_CONNECTORS,
        "test_processing": Connector(
            name="test_processing",
            title="maps raw ids to canonical orders",
            capabilities=frozenset({Capability.PROCESS}),
            make_processor=lambda context: CanonicalProcessor(),
        ),
    }

    async def scenario() -> None:
        db = database
        board = Board()
        hub = Hub(sample_catalog(db), db, connectors=connectors)
        hub.services.extra["board"] = board
        async with hub:
            for n, order_id in enumerate(("ok-1", "nan", "ok-2")):
                raw = IncomingMessage(
                    source_system="online",
                    kind="raw.batch",
                    idempotency_key=f"raw-{n}",
                    payload=msgspec.json.encode([order_id]),
                    location_id="L1",
                )
                await hub.inbox.accept(raw)
            await eventually(lambda: len(board.delivered_to("kds")) == 2)
            [letter] = await hub.deliveries.dead_letters()
        kitchen = [msgspec.json.decode(o.payload)["id"] for o in board.delivered_to("kds")]
        assert kitchen == ["ok-1", "ok-2"]
        assert letter.flow_id == "online#process" and letter.attempts == 1
        assert "quantity NaN" in letter.last_error and "$.lines[0].quantity" in letter.last_error

    asyncio.run(scenario())
