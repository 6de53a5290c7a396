"""Square DRAFT orders (carts nobody placed) never become hub orders, so they never fire to the line."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from expediter.connectors.square.connector import poll
from expediter.sim.square_api import SquareStandIn
from tests.connectors.square.support import ACCESS_TOKEN, square_context
from tests.connectors.square.test_polling import NOON, order_at


def test_draft_orders_are_not_emitted_but_open_ones_are() -> None:
    stand_in = SquareStandIn(access_token=ACCESS_TOKEN)
    draft = order_at("DRAFTED", NOON)
    draft["state"] = "DRAFT"
    stand_in.put_order(draft)
    placed = order_at("PLACED", NOON + timedelta(minutes=1))
    placed["state"] = "OPEN"
    stand_in.put_order(placed)
    ctx = square_context({"http_transport": stand_in.transport()})
    messages = asyncio.run(poll(ctx, NOON, NOON + timedelta(minutes=10)))
    assert [m.idempotency_key for m in messages] == ["square:PLACED:1"]
