"""The dead-letter alert and the dashboard say the same thing, and a replay resolves the alert at
once — for the process that watches and for any other hub process reading the same database."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError
from expediter.monitor.alerts import AlertKind
from expediter.plugin.base import Capability, Connector, IncomingMessage, Outbound
from expediter.runtime import Runtime
from expediter.web.app import create_app
from expediter.web.roles import Role
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message, sample_catalog
from tests.web.signin import add_user, client_for, sign_in


async def refuse(item: object) -> None:
    raise TerminalError("printer_grill rejects the ticket: unknown station")


def _alert_items(page: str) -> list[str]:
    if "<h2>Open alerts</h2>" not in page:
        return []
    section = page.split("<h2>Open alerts</h2>")[1].split("</section>")[0]
    return [html.unescape(item.split("</li>")[0]) for item in section.split('<li class="alert')[1:]]


def test_a_replay_resolves_the_dead_letter_alert_at_once_and_both_count_alike(tmp_path: Path) -> None:
    board = Board(behaviour={"printer": refuse})
    db = tmp_path / "hub.db"
    catalog = sample_catalog(str(db))
    hub = Hub(catalog, db, connectors=TEST_CONNECTORS, retry=RetryPolicy(0.001, 0.005))
    hub.services.extra["board"] = board
    seen: dict[str, str] = {}

    async def main() -> None:
        async with Runtime(catalog, hub, schedule=False, watch=False) as runtime:
            for n, location in ((1, "L1"), (2, "L2")):  # one dead letter in each printer lane
                await hub.inbox.accept(order_message(n, location))

            async def two_dead() -> bool:
                return sum((await hub.deliveries.dead_by_flow()).values()) == 2

            await eventually(two_dead)
            for _ in range(3):  # the watch sees it three times: still one alert, counted once
                await runtime.watch_once()
            [dead_alert] = [a for a in runtime.alerting.book.firing() if a.kind is AlertKind.DEAD_LETTER]
            assert dead_alert.count == 1
            await add_user(hub, role=Role.OPERATOR)
            other = Runtime(catalog, Hub(catalog, db, deliver=False), schedule=False, watch=False)
            async with other:  # another hub process on the same database: it does not watch
                assert not other.watching
                seen["other"] = await _page(other.hub, "/")
            async with client_for(create_app(hub, manage_hub=False)) as client:
                csrf = await sign_in(client)
                seen["before"] = (await client.get("/")).text
                del board.behaviour["printer"]
                replay = await client.post("/dashboard/replay", data={"flow": "pos-printer", "csrf": csrf})
                assert replay.status_code == 303, replay.text
                seen["after"] = (await client.get(replay.headers["location"])).text
            assert [a.kind for a in await runtime.alerting.open_alerts()] == [AlertKind.FAILURE]

    asyncio.run(main())
    before = _alert_items(seen["before"])
    [dead_letter] = [item for item in before if "dead letter" in item]
    assert "pos-printer has 2 dead letters" in dead_letter
    assert "×" not in dead_letter  # seen by three watches, but one occurrence
    row = seen["before"].split('id="dead-pos-printer"')[1].split("</tr>")[0]
    assert '<td class="num">2</td>' in row  # the dashboard counts the same two
    assert 'id="dead-letters"><span class="count">2</span>' in seen["before"]
    assert _alert_items(seen["other"]) == before  # every process shows the watcher's alerts
    assert not any("dead letter" in item for item in _alert_items(seen["after"]))


def test_a_replay_from_another_process_resolves_the_alert_on_the_next_dead_letter_watch(
    tmp_path: Path,
) -> None:
    board = Board(behaviour={"printer": refuse})
    db = tmp_path / "hub.db"
    catalog = sample_catalog(str(db))
    hub = Hub(catalog, db, connectors=TEST_CONNECTORS, retry=RetryPolicy(0.001, 0.005))
    hub.services.extra["board"] = board

    async def main() -> list[list[AlertKind]]:
        kinds = []
        async with Runtime(catalog, hub, schedule=False, watch=False) as runtime:
            await hub.inbox.accept(order_message(1, "L1"))

            async def dead() -> bool:
                return bool(await hub.deliveries.dead_by_flow())

            await eventually(dead)
            await runtime.watch_dead_letters()
            kinds.append([a.kind for a in await runtime.alerting.open_alerts()])
            async with Hub(catalog, db, deliver=False) as cli:  # `expediter replay` is such a hub
                assert await cli.deliveries.replay_flow("pos-printer") == 1
            await runtime.watch_dead_letters()
            kinds.append([a.kind for a in await runtime.alerting.open_alerts()])
        return kinds

    assert asyncio.run(main()) == [[AlertKind.DEAD_LETTER], []]


async def _page(hub: Hub, path: str) -> str:
    """``path`` as the operator added before sees it (the same database, another process's app)."""
    async with client_for(create_app(hub, manage_hub=False)) as client:
        await sign_in(client)
        return (await client.get(path)).text


class FlakyProcessor:
    """A source's processing step (``<system>#process``) whose product API refuses, then works."""

    refusing = True

    def __init__(self, system_id: str) -> None:
        self.system_id = system_id

    async def process(self, item: Outbound) -> list[IncomingMessage]:
        if FlakyProcessor.refusing:
            raise TerminalError("HTTP 404: the product has no such order")
        return []


def test_a_processing_steps_dead_letter_alert_resolves_after_its_replay(tmp_path: Path) -> None:
    """``online#process`` is no catalog flow: once replayed it has no dead letters left, and its
    alert must still resolve."""
    connectors = {
        **TEST_CONNECTORS,
        "test_processing": Connector(
            name="test_processing",
            title="Source whose processing fails",
            capabilities=frozenset({Capability.PROCESS}),
            make_processor=lambda context: FlakyProcessor(context.system.id),
        ),
    }
    db = tmp_path / "hub.db"
    catalog = sample_catalog(str(db))
    hub = Hub(catalog, db, connectors=connectors, retry=RetryPolicy(0.001, 0.005))
    hub.services.extra["board"] = Board()

    async def main() -> list[list[str | None]]:
        seen = []
        async with Runtime(catalog, hub, schedule=False, watch=False) as runtime:
            await hub.inbox.accept(order_message(1, source="online"))

            async def dead() -> bool:
                return (await hub.deliveries.dead_by_flow()) == {"online#process": 1}

            await eventually(dead)
            await runtime.watch_once()
            seen.append([a.flow_id for a in runtime.alerting.book.firing()])
            FlakyProcessor.refusing = False
            assert await hub.deliveries.replay_flow("online#process") == 1

            async def processed() -> bool:
                records = await hub.deliveries.records(flow_id="online#process")
                return [str(r.state) for r in records] == ["delivered"]

            await eventually(processed)
            await runtime.watch_once()
            seen.append([a.flow_id for a in runtime.alerting.book.firing()])
        return seen

    assert asyncio.run(main()) == [["online#process"], []]
