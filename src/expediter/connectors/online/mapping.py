"""The online ordering payload (:class:`OnlineOrder`) and its mapping to the canonical order; the
status and availability messages the hub sends back.

Money is integer minor units; quantities are decimals (JSON numbers or strings). ``totals.total`` is
what the guest paid, tip included: ``subtotal + tax + delivery_fee + tip``. The hub checks that the
items add up to ``subtotal`` and the parts to ``total``, and refuses the order otherwise.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

from expediter.model.money import Money, total
from expediter.model.order import (
    DiningOption,
    Line,
    Modifier,
    Order,
    OrderSource,
    Payment,
    ServiceCharge,
    Tax,
    TenderType,
)
from expediter.model.time import AwareDatetime
from expediter.plugin import RejectedInput


class Fulfilment(StrEnum):
    PICKUP = "pickup"
    DELIVERY = "delivery"


_DINING = {Fulfilment.PICKUP: DiningOption.PICKUP, Fulfilment.DELIVERY: DiningOption.DELIVERY}


class OnlineModifier(msgspec.Struct, kw_only=True):
    name: str
    plu: str | None = None
    qty: Decimal = Decimal(1)
    price: int = 0
    """Per unit of the item, minor units."""


class OnlineItem(msgspec.Struct, kw_only=True):
    name: str
    qty: Decimal
    price: int
    """Unit price before modifiers, minor units."""
    plu: str | None = None
    item_id: str | None = None
    modifiers: list[OnlineModifier] = []
    notes: str = ""

    def key(self) -> str:
        """What the 86 list is keyed by: the PLU, else the item id, else the name."""
        return self.plu or self.item_id or self.name


class OnlineTotals(msgspec.Struct, kw_only=True):
    subtotal: int
    total: int
    """What the guest paid: subtotal + tax + delivery_fee + tip."""
    tax: int = 0
    delivery_fee: int = 0


class OnlineOrder(msgspec.Struct, kw_only=True):
    """An order from an online ordering system or marketplace, as POSTed to the hub."""

    external_id: str
    location_id: str
    """The online system's store id (mapped through ``settings.locations``)."""
    placed_at: AwareDatetime
    items: list[OnlineItem]
    totals: OnlineTotals
    fulfilment: Fulfilment = Fulfilment.PICKUP
    pickup_at: AwareDatetime | None = None
    customer_first_name: str = ""
    marketplace: str | None = None
    """The marketplace's name (e.g. "DoorDash"); empty for the restaurant's own web shop."""
    tax_collected_by_marketplace: bool = False
    """Marketplace-facilitator tax: the marketplace remits it, not the restaurant."""
    tip: int = 0
    currency: str = "USD"
    version: int = 1
    notes: str = ""


class TicketStatus(msgspec.Struct, kw_only=True):
    """A hub ``ticket_status`` message: the kitchen's progress on an order (``ready`` = pick it up)."""

    order_id: str
    status: str
    external_id: str | None = None
    source_system: str | None = None
    location_id: str | None = None
    ticket_id: str | None = None
    at: AwareDatetime | None = None


class AvailabilityChange(msgspec.Struct, kw_only=True):
    """A hub ``availability`` message: an item 86'd (``available = false``) or back."""

    location_id: str
    available: bool
    plu: str | None = None
    item_id: str | None = None
    name: str = ""
    reason: str = ""
    at: AwareDatetime | None = None


def decode_online_order(body: bytes) -> OnlineOrder:
    """The payload as an :class:`OnlineOrder`; ``RejectedInput`` with the JSON path otherwise."""
    try:
        return msgspec.json.decode(body, type=OnlineOrder)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at ")
        raise RejectedInput(message, where=where.strip("`"), fix="see docs/connectors/online.md") from exc
    except msgspec.DecodeError as exc:
        raise RejectedInput(f"not JSON: {exc}", fix="send the order as a JSON object") from exc


def item_amount(item: OnlineItem, currency: str) -> Money:
    modifiers = total((Money(m.price, currency).times(m.qty) for m in item.modifiers), currency)
    return (Money(item.price, currency) + modifiers).times(item.qty)


def check_totals(order: OnlineOrder) -> None:
    """Refuse an order whose items or parts do not add up: someone's arithmetic is wrong."""
    cur = order.currency
    subtotal = total((item_amount(item, cur) for item in order.items), cur)
    if subtotal.amount != order.totals.subtotal:
        raise RejectedInput(
            f"items add up to {subtotal.amount} but totals.subtotal is {order.totals.subtotal}",
            where="$.totals.subtotal",
            fix="subtotal = Σ (price + Σ modifier price × modifier qty) × qty, in minor units",
        )
    parts = order.totals.subtotal + order.totals.tax + order.totals.delivery_fee + order.tip
    if parts != order.totals.total:
        raise RejectedInput(
            f"subtotal + tax + delivery_fee + tip = {parts} but totals.total is {order.totals.total}",
            where="$.totals.total",
            fix="totals.total is what the guest paid, tip included",
        )


def order_from_online(online: OnlineOrder, *, source_system: str, location_id: str) -> Order:
    cur = online.currency
    return Order(
        id=f"{source_system}-{online.external_id}",
        external_id=online.external_id,
        source_system=source_system,
        source=OrderSource.MARKETPLACE if online.marketplace else OrderSource.ONLINE,
        location_id=location_id,
        version=online.version,
        opened_at=online.placed_at,
        dining_option=_DINING[online.fulfilment],
        currency=cur,
        lines=[_line(item, f"{online.external_id}-{i}", cur) for i, item in enumerate(online.items)],
        taxes=_taxes(online),
        service_charges=_fees(online),
        payments=[_payment(online)],
        customer_name=online.customer_first_name,
        promised_at=online.pickup_at,
        notes=online.notes,
    )


def _line(item: OnlineItem, line_id: str, currency: str) -> Line:
    return Line(
        id=line_id,
        name=item.name,
        quantity=item.qty,
        unit_price=Money(item.price, currency),
        item_id=item.item_id,
        plu=item.plu,
        notes=item.notes,
        modifiers=[
            Modifier(name=m.name, plu=m.plu, quantity=m.qty, unit_price=Money(m.price, currency))
            for m in item.modifiers
        ],
    )


def _taxes(online: OnlineOrder) -> list[Tax]:
    if not online.totals.tax:
        return []
    collector = online.marketplace or "the marketplace"
    name = f"Sales tax (remitted by {collector})" if online.tax_collected_by_marketplace else "Sales tax"
    return [
        Tax(
            name=name,
            amount=Money(online.totals.tax, online.currency),
            marketplace_facilitator=online.tax_collected_by_marketplace,
        )
    ]


def _fees(online: OnlineOrder) -> list[ServiceCharge]:
    if not online.totals.delivery_fee:
        return []
    return [ServiceCharge(name="Delivery fee", amount=Money(online.totals.delivery_fee, online.currency))]


def _payment(online: OnlineOrder) -> Payment:
    """One prepaid tender: the marketplace pays out, or the web shop's card processor did."""
    cur = online.currency
    return Payment(
        id=f"{online.external_id}-payment",
        tender=TenderType.MARKETPLACE if online.marketplace else TenderType.CARD,
        amount=Money(online.totals.total - online.tip, cur),
        tip=Money(online.tip, cur),
        marketplace=online.marketplace,
        created_at=online.placed_at,
    )
