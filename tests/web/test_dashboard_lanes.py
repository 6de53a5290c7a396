"""The dashboard shows which lanes wait and why: held by a dead letter, or retrying their head."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError, TransientError
from expediter.plugin.base import Outbound
from expediter.web.app import create_app
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message, sample_catalog
from tests.web.signin import admin_client


async def printer_trouble(item: Outbound) -> None:
    if item.location_id == "L1":
        raise TerminalError("HTTP 400: printer_grill rejects the ticket")
    raise TransientError("printer at Harbor is out of paper")


def test_waiting_lanes_name_their_head_why_and_how_many_wait(tmp_path: Path) -> None:
    board = Board(behaviour={"printer": printer_trouble})
    db = tmp_path / "hub.db"
    hub = Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=30, cap=60))
    hub.services.extra["board"] = board

    async def main() -> str:
        async with hub:
            for n, location in ((1, "L1"), (2, "L1"), (3, "L1"), (4, "L2"), (5, "L2")):
                await hub.inbox.accept(order_message(n, location))

            async def both_wait() -> bool:
                return len(await hub.deliveries.waiting_lanes()) == 2

            await eventually(both_wait)
            await eventually(lambda: len(board.delivered_to("kds")) == 5)  # the kitchen lanes flow
            async with admin_client(hub, create_app(hub, manage_hub=False)) as client:
                return (await client.get("/")).text

    page = asyncio.run(main())
    section = page.split('id="waiting-lanes"')[1].split("</section>")[0]
    held = html.unescape(section.split('id="lane-printer|L1"')[1].split("</tr>")[0])
    assert "dead letter" in held and "pos-printer" in held and "replay it" in held
    assert '<td class="num">2</td>' in held  # orders 2 and 3 wait behind it
    assert "printer_grill rejects the ticket" in held
    retrying = html.unescape(section.split('id="lane-printer|L2"')[1].split("</tr>")[0])
    assert "retrying" in retrying and "attempt 1" in retrying and "next try" in retrying
    assert '<td class="num">1</td>' in retrying and "out of paper" in retrying
    assert 'id="lane-kds' not in section
