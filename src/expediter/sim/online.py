"""Marketplace-style online orders for the demo's online-ordering system.

The payloads are the ``online`` connector's documented :class:`OnlineOrder` (see
``docs/connectors/online.md``), as JSON-ready dicts. Money is integer minor units;
``totals.total = subtotal + tax + tip``. A nested modifier (a side salad's dressing) is flattened
after its parent, its name prefixed by the parent's (``Side Salad: Ranch``). Orders placed on the
restaurant's own site carry no marketplace and the restaurant collects the tax.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from expediter.connectors.online.mapping import (
    Fulfilment,
    OnlineItem,
    OnlineModifier,
    OnlineOrder,
    OnlineTotals,
)
from expediter.model.location import Location
from expediter.model.order import Line, Modifier
from expediter.model.time import zone
from expediter.sim.checks import CheckWriter, gross_cents, menu_index, ring_to_go
from expediter.sim.clock import seeded_rng
from expediter.sim.config import DEFAULT_CONFIG, MARKETPLACE_PREFIX, SimConfig
from expediter.sim.day import opening_seconds
from expediter.sim.tenders import rounded

WEBSITE = "Website"
_CHANNELS = ("DoorDash", "Uber Eats", "Grubhub", WEBSITE)
_CHANNEL_WEIGHTS = (40, 28, 12, 20)
_FIRST = [
    "Dana",
    "Chris",
    "Alex",
    "Jordan",
    "Sam",
    "Taylor",
    "Morgan",
    "Riley",
    "Casey",
    "Jamie",
    "Avery",
    "Quinn",
]


def _flat_modifiers(modifiers: list[Modifier], prefix: str = "") -> list[OnlineModifier]:
    flat: list[OnlineModifier] = []
    for modifier in modifiers:
        name = f"{prefix}{modifier.name}"
        flat.append(OnlineModifier(name=name, plu=modifier.plu, price=modifier.unit_price.amount))
        flat.extend(_flat_modifiers(modifier.modifiers, f"{name}: "))
    return flat


def _item(line: Line) -> OnlineItem:
    return OnlineItem(
        plu=line.plu,
        item_id=line.item_id,
        name=line.name,
        qty=line.quantity,
        price=line.unit_price.amount,
        modifiers=_flat_modifiers(line.modifiers),
    )


def online_order_payload(
    location: Location,
    placed_at: datetime,
    rng: random.Random,
    number: int,
    *,
    config: SimConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """One online order placed at ``placed_at`` (aware), ready ``pickup_at`` 15–40 minutes later."""
    channel = rng.choices(_CHANNELS, _CHANNEL_WEIGHTS)[0]
    prefix = MARKETPLACE_PREFIX.get(channel, "WEB")
    external_id = f"{prefix}-{rng.getrandbits(32):08X}"
    writer = CheckWriter(rng, menu_index(location.currency), f"{external_id}-{number}", config, 0)
    ring_to_go(writer)
    subtotal = sum(gross_cents(line) for line in writer.lines)
    tax = rounded(subtotal, config.tax_rate)
    tip = rounded(subtotal, Decimal(rng.choice((0, 0, 10, 15, 18, 20))) / 100)
    delivery = channel != WEBSITE and rng.random() < 0.7
    ready = placed_at + timedelta(minutes=rng.randint(15, 40))
    local = zone(location.timezone)
    order = OnlineOrder(
        external_id=external_id,
        location_id=location.id,
        placed_at=placed_at.astimezone(local).replace(microsecond=0),
        marketplace=None if channel == WEBSITE else channel,
        items=[_item(line) for line in writer.lines],
        totals=OnlineTotals(subtotal=subtotal, tax=tax, total=subtotal + tax + tip),
        customer_first_name=rng.choice(_FIRST),
        fulfilment=Fulfilment.DELIVERY if delivery else Fulfilment.PICKUP,
        pickup_at=ready.astimezone(local).replace(microsecond=0),
        tax_collected_by_marketplace=channel != WEBSITE,
        tip=tip,
        currency=location.currency,
    )
    payload: dict[str, Any] = msgspec.to_builtins(order)
    return payload


def iter_online_payloads(
    location: Location,
    business_date: date,
    seed: int,
    count: int = 150,
    *,
    config: SimConfig = DEFAULT_CONFIG,
) -> Iterator[tuple[datetime, dict[str, Any]]]:
    """``count`` online orders over the day's traffic curve, as (placed_at, payload) in time order."""
    rng = seeded_rng(seed, location, business_date, "online")
    midnight = datetime.combine(business_date, datetime.min.time(), tzinfo=zone(location.timezone))
    for number, second in enumerate(opening_seconds(rng, count), start=1):
        placed_at = midnight + timedelta(seconds=second)
        yield placed_at, online_order_payload(location, placed_at, rng, number, config=config)
