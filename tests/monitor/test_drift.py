"""Schema drift: a new, a missing and a retyped field seen on arrival, recorded with an example,
alerted once, and handled by each flow's policy (accept, hold, quarantine); unknown order fields
kept and surfaced while the kitchen still gets the order; files' columns; polled orders."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from expediter.catalog.schema import ApiToken, Catalog, DriftPolicy, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.catalog.secrets import hash_token
from expediter.commands.drift import accept_drifts, release_drifts
from expediter.engine.deliveries import DeliveryState
from expediter.engine.hub import Hub
from expediter.engine.inbound import FileArrivals
from expediter.errors import RejectedInput
from expediter.model.location import Location
from expediter.monitor import drift_store
from expediter.monitor.alerts import AlertKind
from expediter.monitor.drift import LEARN_MESSAGES, SAMPLE_EVERY, Arrival
from expediter.monitor.drift_store import Drift, DriftState
from expediter.monitor.shapes import (
    Change,
    FieldShape,
    changes,
    columns_shape,
    example_at,
    json_shape,
    learn,
)
from expediter.plugin.base import Capability, Connector, ConnectorContext, IncomingMessage
from expediter.plugin.transport import FetchedFile
from expediter.runtime import Runtime
from expediter.web.app import create_app
from tests.engine.helpers import TEST_CONNECTORS, Board
from tests.web.test_api import sample_order

TOKEN = "drift-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CARD = "4111 1111 1111 1111"


# -- shapes -----------------------------------------------------------------------------------------


def test_a_shape_is_its_paths_and_types() -> None:
    shape = json_shape({"a": 1, "b": [{"c": "x", "d": None}], "e": {"12345": {"f": 1.5}}, "g": True})
    assert shape == {
        ("$.a", "integer"),
        ("$.b", "array"),
        ("$.b[]", "object"),
        ("$.b[].c", "string"),
        ("$.e", "object"),
        ("$.e.*", "object"),  # an id key is any key
        ("$.e.*.f", "number"),
        ("$.g", "boolean"),
    }


def _known(*payloads: dict[str, Any]) -> dict[str, FieldShape]:
    known: dict[str, FieldShape] = {}
    for n, payload in enumerate(payloads):
        known = learn(known, json_shape(payload), first=n == 0)
    return known


def test_learning_keeps_what_is_always_there_and_changes_name_what_is_not() -> None:
    known = _known({"a": 1, "b": {"c": "x"}, "n": 2}, {"a": 2, "b": {"c": "y"}, "n": 2.5}, {"a": 3})
    assert known["$.a"].required and not known["$.b"].required  # b was missing from the third
    assert known["$.b.c"].required  # ... but always there when b was
    assert known["$.n"].types == {"integer", "number"}
    found = changes(known, json_shape({"b": {"z": 1}, "n": 1, "x": [1]}))
    assert [(c.path, c.change) for c in found] == [
        ("$.b.z", Change.ADDED),
        ("$.x", Change.ADDED),  # its items are part of it, not more changes
        ("$.a", Change.REMOVED),
        ("$.b.c", Change.REMOVED),
    ]
    retyped = changes(known, json_shape({"a": "3", "n": 4}))
    assert [(c.path, c.change, c.known_types, c.seen_type) for c in retyped] == [
        ("$.a", Change.RETYPED, "integer", "string")  # an integer where numbers were is no change
    ]


def test_an_example_never_holds_a_whole_card_number() -> None:
    value = {"order": {"notes": [f"paid with {CARD}, thanks"], "pin": "1234"}}
    shown = example_at(value, "$.order.notes[]")
    assert "1111" in shown and "4111" not in shown and "*" in shown
    assert example_at(value, "$.order.pin") == '"1234"' and example_at(value, "$.nope") == ""
    _, examples = columns_shape(["card"], [[CARD]])
    assert examples["card"].endswith("1111") and "4111" not in examples["card"]


def test_a_files_columns_are_typed_by_their_values() -> None:
    shape, _ = columns_shape(
        ["sku", "qty", "price", "day", "note", "blank"],
        [["0012", "2", "3.50", "2026-11-26", "x", ""], ["0013", "10", "4", "2026-11-27", "", ""]],
    )
    assert dict(shape) == {
        "sku": "integer",
        "qty": "integer",
        "price": "number",
        "day": "date",
        "note": "text",
        "blank": "empty",
    }


# -- a running hub ----------------------------------------------------------------------------------


class Webhooks:
    """A product's webhooks, unsigned: one ``online.order`` message per body."""

    def verify(self, headers: Mapping[str, str], body: bytes, url: str) -> None:
        return None

    def messages(self, headers: Mapping[str, str], body: bytes) -> list[IncomingMessage]:
        event = msgspec.json.decode(body)
        return [
            IncomingMessage(
                source_system="shop",
                kind="online.order",
                idempotency_key=f"shop:{event['event_id']}",
                payload=body,
            )
        ]


async def _polled(ctx: ConnectorContext, start: datetime, end: datetime) -> list[IncomingMessage]:
    found: list[IncomingMessage] = ctx.services.extra["polled"]
    return list(found)


CONNECTORS = {
    **TEST_CONNECTORS,
    "test_webhook": Connector(
        name="test_webhook",
        title="Webhooks",
        capabilities=frozenset({Capability.WEBHOOK}),
        make_webhook=lambda context: Webhooks(),
    ),
    "test_poller": Connector(name="test_poller", title="Polled", capabilities=frozenset(), poll=_polled),
}


def _flow(flow_id: str, source: str, data: str, policy: DriftPolicy) -> Flow:
    return Flow(
        id=flow_id,
        from_=source,
        to="kds",
        data=data,
        level=Level.REALTIME,
        trigger=Trigger.EVENT,
        owner="ops",
        drift=policy,
    )


def _catalog(tmp_path: Path, policy: DriftPolicy) -> Catalog:
    return Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(id="kds", kind=SystemKind.KDS, connector="test_sink", owner="kitchen"),
            System(id="shop", kind=SystemKind.ONLINE_ORDERING, connector="test_webhook", owner="ops"),
            System(id="square", kind=SystemKind.POS, connector="test_poller", owner="ops"),
            System(id="inventory", kind=SystemKind.INVENTORY, connector="test_source", owner="chef"),
        ],
        flows=[
            _flow("shop-to-kitchen", "shop", "online.order", policy),
            _flow("pos-to-kitchen", "pos", "orders", policy),
            _flow("polled-to-kitchen", "square", "orders", policy),
            Flow(
                id="counts-in",
                from_="inventory",
                to="inventory",
                data="inventory_counts",
                level=Level.FILE,
                trigger=Trigger.FILE_ARRIVAL,
                transport="folder",
                format="csv",
                owner="chef",
                drift=policy,
            ),
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )


@dataclass
class Rig:
    hub: Hub
    runtime: Runtime
    client: httpx.AsyncClient
    board: Board

    async def webhook(self, number: int, **changes: Any) -> httpx.Response:
        return await self.client.post("/api/v1/webhooks/shop", content=_event(number, **changes))

    async def settled(self) -> None:
        """Until no delivery is pending and every alert report went out."""
        for _ in range(500):
            counts = await self.hub.deliveries.counts()
            if not counts.get(DeliveryState.PENDING) and not counts.get(DeliveryState.RETRYING):
                await asyncio.gather(*self.runtime._reports)
                return
            await asyncio.sleep(0.01)
        raise AssertionError("deliveries did not settle")

    def delivered(self, marker: str) -> list[dict[str, Any]]:
        bodies = [msgspec.json.decode(o.payload) for o in self.board.delivered_to("kds")]
        return [b for b in bodies if marker in msgspec.json.encode(b).decode()]

    async def drifts(self) -> list[Drift]:
        return await drift_store.drifts(self.hub.storage, every=True)

    async def state_of(self, message_id: int) -> set[str]:
        return {d.state.value for d in await self.hub.deliveries.records() if d.message_id == message_id}

    def drift_alerts(self) -> list[str]:
        return [a.message for a in self.runtime.alerting.book.firing() if a.kind is AlertKind.DRIFT]


@asynccontextmanager
async def _rig(tmp_path: Path, policy: DriftPolicy) -> AsyncIterator[Rig]:
    catalog = _catalog(tmp_path, policy)
    board = Board()
    hub = Hub(catalog, connectors=CONNECTORS, poll_interval=0.05)
    hub.services.extra["board"] = board
    runtime = Runtime(catalog, hub, schedule=False, watch=False)
    app = create_app(hub, runtime=runtime)
    await runtime.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield Rig(hub=hub, runtime=runtime, client=client, board=board)
    finally:
        await runtime.stop()


def _event(number: int, *, added: bool = False, removed: bool = False, retyped: bool = False) -> bytes:
    order: dict[str, Any] = {
        "id": f"w-{number}",
        "items": [{"name": "Burger", "qty": 2}],
        "note": "no onions",
        "total": 1250,
    }
    if added:
        order["allergy"] = "peanuts"
    if removed:
        del order["note"]
    if retyped:
        order["total"] = "12.50"
    return msgspec.json.encode({"event_id": f"e-{number}", "order": order})


async def _teach(rig: Rig, count: int = LEARN_MESSAGES) -> None:
    for start in range(0, count, 25):
        answers = await asyncio.gather(*(rig.webhook(n) for n in range(start, min(count, start + 25))))
        assert {a.status_code for a in answers} == {202}


CHANGES = {
    "added": ("$.order.allergy", Change.ADDED, '"peanuts"'),
    "removed": ("$.order.note", Change.REMOVED, ""),
    "retyped": ("$.order.total", Change.RETYPED, '"12.50"'),
}


@pytest.mark.parametrize("policy", list(DriftPolicy))
@pytest.mark.parametrize("kind", list(CHANGES))
def test_a_changed_field_under_each_policy(tmp_path: Path, kind: str, policy: DriftPolicy) -> None:
    path, change, example = CHANGES[kind]

    async def scenario() -> None:
        async with _rig(tmp_path, policy) as rig:
            await _teach(rig)
            assert await rig.drifts() == []  # learning is quiet
            first = (await rig.webhook(1000, **{kind: True})).json()["message_ids"][0]
            second = (await rig.webhook(1001, **{kind: True})).json()["message_ids"][0]
            await rig.settled()
            [drift] = await rig.drifts()
            assert (drift.stream, drift.change.path, drift.change.change) == (
                "shop/online.order",
                path,
                change,
            )
            assert drift.example == example and drift.first_message_id == first
            [alert] = rig.drift_alerts()  # once, for the flow the stream feeds
            assert path in alert and "shop/online.order" in alert
            if policy is DriftPolicy.ACCEPT:
                assert rig.delivered("w-1000") and rig.delivered("w-1001")
                assert drift.seen == 1  # learned at once: the second was no drift
                return
            expected = "held" if policy is DriftPolicy.HOLD else "quarantined"
            assert await rig.state_of(first) == await rig.state_of(second) == {expected}
            assert not rig.delivered("w-1000") and drift.seen == 2
            assert rig.delivered("w-3"), "the messages before the change went through"

            done = await accept_drifts(rig.hub, [drift.id])
            await rig.settled()
            [accepted] = await rig.drifts()
            assert accepted.state is DriftState.ACCEPTED
            assert (done.deliveries > 0) is (policy is DriftPolicy.HOLD)
            assert bool(rig.delivered("w-1000")) is (policy is DriftPolicy.HOLD)
            third = (await rig.webhook(1002, **{kind: True})).json()["message_ids"][0]
            await rig.settled()
            assert rig.delivered("w-1002") and await rig.state_of(third) == {"delivered"}
            if policy is DriftPolicy.QUARANTINE:
                released = await release_drifts(rig.hub, [drift.id])
                await rig.settled()
                assert released.deliveries == 2 and rig.delivered("w-1000") and rig.delivered("w-1001")

    asyncio.run(scenario())


def test_a_refresh_while_a_payload_is_stored_keeps_what_it_taught(tmp_path: Path) -> None:
    """The tables change (the hub's own commit) while a payload is judged but not yet stored: the
    re-read must not forget what that payload taught, or its stream learns the change instead."""

    def message(number: int) -> IncomingMessage:
        return IncomingMessage(
            source_system="shop",
            kind="online.order",
            idempotency_key=f"shop:e-{number}",
            payload=_event(number),
        )

    async def scenario() -> None:
        async with _rig(tmp_path, DriftPolicy.ACCEPT) as rig:
            watch, storage = rig.hub.drift, rig.hub.storage
            await _teach(rig, LEARN_MESSAGES - 2)
            committed = watch.observe(message(LEARN_MESSAGES - 2), Arrival.UNCHECKED)
            assert committed is not None
            await storage.write(lambda tx: committed.record(tx, None, alone=True))
            last = watch.observe(message(LEARN_MESSAGES - 1), Arrival.UNCHECKED)  # it ends the learning
            assert last is not None
            await watch.refresh()  # the commit above changed the tables: they are read again
            await storage.write(lambda tx: last.record(tx, None, alone=True))
            answer = await rig.webhook(1000, added=True)
            assert answer.status_code == 202
            await rig.settled()
            [drift] = await rig.drifts()
            assert (drift.change.path, drift.change.change) == ("$.order.allergy", Change.ADDED)
            [record] = await storage.read(drift_store.read_streams)
            assert (record.messages, record.learning) == (LEARN_MESSAGES, False)

    asyncio.run(scenario())


# -- canonical orders --------------------------------------------------------------------------------


def _order_body(order_id: str, *, line_extra: dict[str, Any] | None = None, table: bool = True) -> bytes:
    order = msgspec.to_builtins(sample_order(order_id, location="L1", source_system="pos"))
    if table:
        order["table"] = "12"
    if line_extra:
        order["lines"][0].update(line_extra)
    return msgspec.json.encode(order)


def test_an_unknown_order_field_is_kept_surfaced_and_the_kitchen_still_cooks(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with _rig(tmp_path, DriftPolicy.ACCEPT) as rig:
            plain = await rig.client.post("/api/v1/orders", content=_order_body("o-1"), headers=AUTH)
            assert plain.status_code == 202
            misspelled = _order_body("o-2", line_extra={"alergy_note": "tree nuts"})
            answer = await rig.client.post("/api/v1/orders", content=misspelled, headers=AUTH)
            assert answer.status_code == 202, answer.text
            await rig.settled()
            [cooked] = rig.delivered("o-2")
            assert cooked["lines"][0]["alergy_note"] == "tree nuts"  # nothing the sender wrote is lost
            stored = await rig.hub.inbox.get(answer.json()["message_id"])
            assert stored is not None and b'"alergy_note":"tree nuts"' in stored.payload
            [drift] = await rig.drifts()  # a field the model does not know: a drift from the start
            assert (drift.stream, drift.change.path, drift.change.change) == (
                "pos/orders",
                "$.lines[].alergy_note",
                Change.ADDED,
            )
            assert drift.example == '"tree nuts"'
            [alert] = rig.drift_alerts()
            assert "$.lines[].alergy_note" in alert and "delivered (the flow accepts drift)" in alert

    asyncio.run(scenario())


def test_a_drift_another_process_sees_is_alerted_once_by_the_process_that_watches(tmp_path: Path) -> None:
    """``serve --workers N``: a worker that does not deliver records the drift; the delivering
    process alerts it at its next watch, once, and later watches do not add to its count."""

    async def scenario() -> None:
        async with _rig(tmp_path, DriftPolicy.ACCEPT) as rig:
            worker_hub = Hub(copy.deepcopy(rig.hub.catalog), deliver=False)
            worker = Runtime(worker_hub.catalog, worker_hub, schedule=False, watch=False)
            app = create_app(worker_hub, runtime=worker)
            async with (
                worker_hub,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
                ) as client,
            ):
                body = _order_body("o-9", line_extra={"alergy_note": "tree nuts"})
                answer = await client.post("/api/v1/orders", content=body, headers=AUTH)
                assert answer.status_code == 202, answer.text
                await asyncio.gather(*worker._reports)
                assert worker.alerting.book.firing() == []  # the worker alerts nothing itself
            [drift] = await rig.drifts()
            assert drift.change.path == "$.lines[].alergy_note"
            assert rig.drift_alerts() == []
            for _ in range(3):
                await rig.runtime.watch_once()
            [alert] = [a for a in rig.runtime.alerting.book.firing() if a.kind is AlertKind.DRIFT]
            assert "$.lines[].alergy_note" in alert.message and alert.count == 1

    asyncio.run(scenario())


def test_an_order_field_that_stops_coming_is_seen_within_the_sample(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with _rig(tmp_path, DriftPolicy.HOLD) as rig:
            for start in range(0, LEARN_MESSAGES, 25):
                await asyncio.gather(
                    *(
                        rig.client.post("/api/v1/orders", content=_order_body(f"t-{n}"), headers=AUTH)
                        for n in range(start, start + 25)
                    )
                )
            ids = []
            for n in range(SAMPLE_EVERY):
                body = _order_body(f"n-{n}", table=False)
                ids.append(
                    (await rig.client.post("/api/v1/orders", content=body, headers=AUTH)).json()["message_id"]
                )
            after = await rig.client.post(
                "/api/v1/orders", content=_order_body("n-x", table=False), headers=AUTH
            )
            await rig.settled()
            [drift] = await rig.drifts()
            assert (drift.change.path, drift.change.change) == ("$.table", Change.REMOVED)
            assert await rig.state_of(after.json()["message_id"]) == {"held"}  # watched every one now
            held = [i for i in ids if await rig.state_of(i) == {"held"}]
            assert len(held) == 1  # the sampled one; those before it went to the kitchen

    asyncio.run(scenario())


# -- polled orders ------------------------------------------------------------------------------------


def test_polled_orders_drift_too(tmp_path: Path) -> None:
    def polled(order_id: str, **changes: Any) -> IncomingMessage:
        order = msgspec.to_builtins(sample_order(order_id, location="L1", source_system="square"))
        order.update(changes)
        return IncomingMessage(
            source_system="square",
            kind="orders",
            idempotency_key=f"square:{order_id}:1",
            payload=msgspec.json.encode(order),
            location_id="L1",
        )

    async def scenario() -> None:
        async with _rig(tmp_path, DriftPolicy.QUARANTINE) as rig:
            rig.hub.services.extra["polled"] = [polled(f"p-{n}") for n in range(LEARN_MESSAGES)]
            assert await rig.runtime.poll_once("square", window=timedelta(minutes=5)) == LEARN_MESSAGES
            rig.hub.services.extra["polled"] = [polled("p-new", delivery_zone="north")]
            await rig.runtime.poll_once("square", window=timedelta(minutes=5))
            await rig.settled()
            [drift] = await rig.drifts()
            assert (drift.stream, drift.change.path) == ("square/orders", "$.delivery_zone")
            assert not rig.delivered("p-new") and rig.delivered("p-1")

    asyncio.run(scenario())


# -- files -----------------------------------------------------------------------------------------------


def _file(name: str, text: str) -> FetchedFile:
    data = text.encode()
    return FetchedFile(name=name, data=data, checksum=f"sha256:{hash(data)}", mtime=datetime.now(UTC))


SHEET = "ingredient,unit,quantity\nbun,each,10\nlettuce,lb,4\n"


@pytest.mark.parametrize("policy", list(DriftPolicy))
def test_a_files_new_column_under_each_policy(tmp_path: Path, policy: DriftPolicy) -> None:
    async def scenario() -> None:
        async with _rig(tmp_path, policy) as rig:
            flow = rig.hub.catalog.flow("counts-in")
            assert flow is not None
            handle = FileArrivals(rig.hub).handler(flow)
            await handle(_file("counts_L1_20261125.csv", SHEET))
            changed = _file("counts_L1_20261126.csv", SHEET.replace("quantity\n", "quantity,par\n"))
            if policy is DriftPolicy.QUARANTINE:
                with pytest.raises(RejectedInput, match="its columns changed"):
                    await handle(changed)
            else:
                await handle(changed)
            [drift] = await rig.drifts()
            assert (drift.stream, drift.change.path, drift.change.change) == (
                "file:counts-in",
                "par",
                Change.ADDED,
            )
            stored = await rig.hub.inbox.latest_by_ref("inventory_counts", "L1:2026-11-26")
            assert (stored is not None) is (policy is DriftPolicy.ACCEPT)
            if policy is DriftPolicy.HOLD:
                done = await accept_drifts(rig.hub, [drift.id])
                assert done.files == ["counts_L1_20261126.csv: taken"]
                assert await rig.hub.inbox.latest_by_ref("inventory_counts", "L1:2026-11-26") is not None

    asyncio.run(scenario())


def test_accepting_in_another_process_is_seen_within_seconds(tmp_path: Path) -> None:
    """The CLI accepts in its own process; the running hub reads the change and stops holding."""

    async def scenario() -> None:
        async with _rig(tmp_path, DriftPolicy.HOLD) as rig:
            await _teach(rig)
            await rig.webhook(5000, added=True)
            [drift] = await rig.drifts()
            async with Hub(copy.deepcopy(rig.hub.catalog), deliver=False) as other:
                await accept_drifts(other, [drift.id])
            for number in range(5001, 5101):
                await rig.webhook(number, added=True)
                await rig.settled()
                if rig.delivered(f"w-{number}"):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the running hub kept holding an accepted change")
            await rig.runtime.watch_once()
            await rig.settled()
            assert rig.delivered("w-5000"), "what was held while it learned goes out"
            assert rig.drift_alerts() == []

    asyncio.run(scenario())
