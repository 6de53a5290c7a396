from __future__ import annotations

from datetime import datetime

import msgspec

from expediter.model.cards import refuse_card_numbers
from expediter.sim.menu import restaurant_menu
from expediter.sim.online import WEBSITE, iter_online_payloads
from tests.sim.places import DAY, NEW_YORK

_FIELDS = {
    "external_id",
    "location_id",
    "marketplace",
    "items",
    "customer_name",
    "fulfillment",
    "pickup_at",
    "tax_collected_by_marketplace",
    "tax",
    "tip",
    "total",
    "currency",
}


def test_online_payloads_have_the_documented_shape_and_add_up() -> None:
    plus = {item.plu for item in restaurant_menu().items}
    payloads = list(iter_online_payloads(NEW_YORK, DAY, seed=11, count=120))
    assert len(payloads) == 120
    for placed_at, payload in payloads:
        assert set(payload) == _FIELDS
        assert payload["location_id"] == "L001" and payload["currency"] == "USD"
        assert payload["fulfillment"] in {"pickup", "delivery"}
        pickup_at = datetime.fromisoformat(payload["pickup_at"])
        assert pickup_at.utcoffset() is not None and pickup_at > placed_at
        assert payload["tax_collected_by_marketplace"] == (payload["marketplace"] != WEBSITE)
        subtotal = 0
        for item in payload["items"]:
            assert item["plu"] in plus and isinstance(item["quantity"], int)
            each = item["unit_price"] + sum(m["price"] for m in item["modifiers"])
            subtotal += each * item["quantity"]
        assert payload["total"] == subtotal + payload["tax"] + payload["tip"]
        assert all(isinstance(payload[k], int) for k in ("tax", "tip", "total"))
        refuse_card_numbers(payload)
    channels = {payload["marketplace"] for _, payload in payloads}
    assert {"DoorDash", "Uber Eats", "Grubhub", WEBSITE} <= channels
    nested = [m["name"] for _, p in payloads for i in p["items"] for m in i["modifiers"] if ": " in m["name"]]
    assert nested, "a side salad's dressing should be flattened after it"


def test_online_payloads_are_deterministic_json() -> None:
    def encoded() -> bytes:
        return msgspec.json.encode([p for _, p in iter_online_payloads(NEW_YORK, DAY, seed=3, count=30)])

    assert encoded() == encoded()
