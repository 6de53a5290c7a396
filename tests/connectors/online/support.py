"""Shared helpers for the online ordering connector tests."""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.connectors.online.signature import signed_headers
from expediter.model.location import Location
from expediter.plugin.base import ConnectorContext
from expediter.plugin.services import Services

SECRET = "online-test-secret"
SECRET_ENV = "EXPEDITER_TEST_ONLINE_SECRET"

SAMPLE_ORDER: dict[str, Any] = {
    "external_id": "DD-1001",
    "location_id": "store-42",
    "placed_at": "2026-11-27T17:45:00-05:00",
    "pickup_at": "2026-11-27T18:05:00-05:00",
    "fulfilment": "pickup",
    "customer_first_name": "Maya",
    "marketplace": "DoorDash",
    "tax_collected_by_marketplace": True,
    "tip": 300,
    "items": [
        {
            "plu": "1001",
            "name": "Smash Burger",
            "qty": 2,
            "price": 1200,
            "modifiers": [{"name": "Extra cheese", "plu": "9001", "qty": 1, "price": 150}],
        },
        {"plu": "2002", "name": "Fries", "qty": "1", "price": 450, "notes": "well done"},
    ],
    "totals": {"subtotal": 3150, "tax": 252, "delivery_fee": 0, "total": 3702},
}


def sample_order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(SAMPLE_ORDER)
    order.update(changes)
    return order


def signed(
    order: dict[str, Any], *, now: float | None = None, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    body = msgspec.json.encode(order)
    return body, {"content-type": "application/json", **signed_headers(secret, body, now=now)}


def online_context(services: dict[str, Any] | None = None, **settings: Any) -> ConnectorContext:
    values: dict[str, Any] = {
        "secret": f"env:{SECRET_ENV}",
        "locations": {"store-42": "main"},
        "status_url": "http://online.test/status",
        "availability_url": "http://online.test/availability",
    }
    values.update(settings)
    system = System(
        id="online", kind=SystemKind.ONLINE_ORDERING, connector="online", owner="ops", settings=values
    )
    catalog = Catalog(
        locations=[Location(id="main", name="Main", timezone="America/New_York")], systems=[system]
    )
    return ConnectorContext(catalog=catalog, system=system, services=Services(**(services or {})))


class EightySixList:
    """The kitchen's 86 list, as the availability service answers it."""

    def __init__(self, *unavailable: tuple[str, str]) -> None:
        self.unavailable = set(unavailable)

    def is_available(self, location_id: str, plu_or_item_id: str) -> bool:
        return (location_id, plu_or_item_id) not in self.unavailable
