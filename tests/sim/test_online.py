from __future__ import annotations

import msgspec

from expediter.connectors.online.mapping import check_totals, decode_online_order
from expediter.model.cards import refuse_card_numbers
from expediter.sim.menu import restaurant_menu
from expediter.sim.online import iter_online_payloads
from tests.sim.places import DAY, NEW_YORK


def test_online_payloads_are_what_the_online_connector_reads_and_add_up() -> None:
    plus = {item.plu for item in restaurant_menu().items}
    payloads = list(iter_online_payloads(NEW_YORK, DAY, seed=11, count=120))
    assert len(payloads) == 120
    for placed_at, payload in payloads:
        order = decode_online_order(msgspec.json.encode(payload))
        check_totals(order)  # the connector's own rule: items add up to subtotal, parts to total
        assert order.location_id == "L001" and order.currency == "USD"
        assert order.placed_at == placed_at
        assert order.pickup_at is not None and order.pickup_at > placed_at
        assert order.tax_collected_by_marketplace == (order.marketplace is not None)
        assert all(item.plu in plus for item in order.items)
        assert order.totals.total == order.totals.subtotal + order.totals.tax + order.tip
        refuse_card_numbers(payload)
    channels = {payload["marketplace"] for _, payload in payloads}
    assert {"DoorDash", "Uber Eats", "Grubhub", None} <= channels
    nested = [m["name"] for _, p in payloads for i in p["items"] for m in i["modifiers"] if ": " in m["name"]]
    assert nested, "a side salad's dressing should be flattened after it"


def test_online_payloads_are_deterministic_json() -> None:
    def encoded() -> bytes:
        return msgspec.json.encode([p for _, p in iter_online_payloads(NEW_YORK, DAY, seed=3, count=30)])

    assert encoded() == encoded()
