"""Order → what one station's printer prints: the station's items, or only what changed.

The same routing as the screens (:func:`~expediter.operations.kitchen.routing.route_order`) decides
what belongs to the station; the diff against what this printer printed last for the order
(:func:`~expediter.operations.kitchen.tickets.merge_items`) makes a newer version print as an add-on
or a void slip, never a full reprint.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from expediter.model.order import Order
from expediter.operations.kitchen.routing import RoutingRules, TicketItem, route_order
from expediter.operations.kitchen.tickets import guest_label, merge_items, order_number, ticket_id_for


class PrintTicket(msgspec.Struct, kw_only=True):
    ticket_id: str
    station: str
    order_number: str
    version: int
    heading: str
    """``NEW`` for a first print, ``UPDATE v<n>`` for a change."""
    dining_option: str
    guest: str
    opened_at: datetime
    items: list[TicketItem]


def station_items(order: Order, station: str, rules: RoutingRules) -> list[TicketItem]:
    """Everything of ``order`` that ``station`` cooks (held courses included: paper cannot wait)."""
    every_course = {line.course for line in order.lines if line.course is not None}
    return route_order(order, rules, every_course).get(station, [])


def changes_since(
    old: list[TicketItem], new: list[TicketItem], version: int
) -> tuple[list[TicketItem], list[TicketItem]]:
    """(items to print, the printer's new memory): added items and newly voided ones only."""
    merged, _ = merge_items(old, new, version)
    changed = [
        item
        for index, item in enumerate(merged)
        if index >= len(old) or (item.voided and not old[index].voided)
    ]
    return changed, merged


def print_ticket(order: Order, station: str, items: list[TicketItem], first: bool) -> PrintTicket:
    return PrintTicket(
        ticket_id=ticket_id_for(order.id, station),
        station=station,
        order_number=order_number(order),
        version=order.version,
        heading="NEW" if first else f"UPDATE v{order.version}",
        dining_option=order.dining_option.value,
        guest=guest_label(order),
        opened_at=order.opened_at,
        items=items,
    )
