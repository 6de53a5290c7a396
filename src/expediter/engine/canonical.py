"""What the engine reads from a canonical message it did not parse itself.

Orders and punches that a connector derives (a Square order fetched after its webhook, an online
order mapped from a marketplace payload) are stored with the same ``ref`` and ``business_date`` as
those posted to the canonical API, so nightly exports, the journal and payroll find them all the same
way. The business date always comes from the location's own clock.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from expediter.catalog.schema import Catalog
from expediter.model.labor import TimePunch, refuse_implausible_punch
from expediter.model.order import Order, refuse_implausible_order
from expediter.plugin.base import IncomingMessage

CANONICAL_KINDS = frozenset({"orders", "punches", "employees"})
"""Kinds whose payload is the canonical model already: nothing processes them again."""
_orders = msgspec.json.Decoder(Order)
_punches = msgspec.json.Decoder(TimePunch)


def is_canonical(kind: str) -> bool:
    return kind in CANONICAL_KINDS


def canonical_facts(message: IncomingMessage, catalog: Catalog) -> tuple[str | None, date | None]:
    """(ref, business date) of an ``orders`` or ``punches`` message; (None, None) for other kinds or
    for a payload that is not canonical (the delivery of it will say so).

    A connector's canonical record is held to the model's bounds as one posted to the API is
    (:func:`~expediter.model.order.refuse_implausible_order`; its times are the product's own):
    ``RejectedInput`` naming the path, so a quantity of NaN never reaches the night's exports."""
    try:
        if message.kind == "orders":
            order = _orders.decode(message.payload)
            refuse_implausible_order(order)
            return order.id, order.business_date or _business_date(
                catalog, order.location_id, order.opened_at
            )
        if message.kind == "punches":
            punch = _punches.decode(message.payload)
            refuse_implausible_punch(punch)
            return punch.id, _business_date(catalog, punch.location_id, punch.clock_in)
    except msgspec.DecodeError:
        return None, None
    return None, None


def _business_date(catalog: Catalog, location_id: str, at: datetime) -> date | None:
    location = catalog.location(location_id)
    if location is None:
        return None
    return location.business_date_for(at)
