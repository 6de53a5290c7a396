"""The online payload docs/simulate.md shows is one the connector accepts, and the simulator's shape."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from expediter.model.money import Money
from expediter.model.order import OrderSource, order_totals
from expediter.sim.locations import sim_locations
from expediter.sim.online import iter_online_payloads
from tests.connectors.online.test_orders import canonical
from tests.fixtures_path import REPO_ROOT


def documented_payload() -> dict[str, Any]:
    text = (REPO_ROOT / "docs" / "simulate.md").read_text(encoding="utf-8")
    section = text.split("## Online-order payloads", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None, "docs/simulate.md: no JSON block under 'Online-order payloads'"
    payload: dict[str, Any] = json.loads(block.group(1))
    return payload


def test_the_documented_payload_is_accepted_and_mapped() -> None:
    payload = documented_payload()
    order = canonical({**payload, "location_id": "store-42"})  # the test system maps store-42
    assert order.source is OrderSource.MARKETPLACE
    assert [line.name for line in order.lines] == [item["name"] for item in payload["items"]]
    totals = order_totals(order)
    assert totals.gross_sales == Money(payload["totals"]["subtotal"], "USD")
    assert totals.tips == Money(payload["tip"], "USD")
    assert totals.total + totals.tips == Money(payload["totals"]["total"], "USD")  # what the guest paid


def test_the_documented_payload_has_the_simulators_fields() -> None:
    [(_, generated)] = list(iter_online_payloads(sim_locations(1)[0], date(2026, 11, 27), seed=7, count=1))
    payload = documented_payload()
    assert sorted(payload) == sorted(generated)
    assert sorted(payload["items"][0]) == sorted(generated["items"][0])
    assert sorted(payload["totals"]) == sorted(generated["totals"])
