"""Order → what one station's printer prints: the station's items, or only what changed.

The same routing as the screens (:func:`~expediter.model.kitchen.route_order`) decides
what belongs to the station; the diff against what this printer printed last for the order
(:func:`~expediter.model.kitchen.merge_items`) makes a newer version print as an add-on
or a void slip, never a full reprint.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

import msgspec

from expediter.model.kitchen import (
    RoutingRules,
    TicketItem,
    guest_label,
    merge_items,
    order_number,
    route_order,
    ticket_id_for,
)
from expediter.model.order import Order


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
    promised_at: datetime | None = None
    """When the guest or courier expects it (pickup time), in the location's time zone."""
    items: list[TicketItem]


def station_items(order: Order, station: str, rules: RoutingRules) -> list[TicketItem]:
    """Everything of ``order`` that ``station`` cooks (held courses included: paper cannot wait)."""
    every_course = {line.course for line in order.lines if line.course is not None}
    return route_order(order, rules, every_course).get(station, [])


def changes_since(
    old: list[TicketItem], new: list[TicketItem], version: int
) -> tuple[list[TicketItem], list[TicketItem]]:
    """(items to print, the printer's new memory): exactly what this version voided and added.

    An item is known by its key and the version that added it. What was live before and is struck
    now was voided by this version; what is live now and was not live before was added by it (a
    changed item is both: struck and re-added). Positions mean nothing: a changed item takes two
    rows in the memory, so everything after it moves."""
    merged, _ = merge_items(old, new, version)
    live_before = {(item.key, item.added_version) for item in old if not item.voided}
    voided = [item for item in merged if item.voided and (item.key, item.added_version) in live_before]
    added = [item for item in merged if not item.voided and (item.key, item.added_version) not in live_before]
    return voided + added, merged


def _local(moment: datetime, zone: tzinfo | None) -> datetime:
    return moment.astimezone(zone) if zone is not None else moment


def print_ticket(
    order: Order, station: str, items: list[TicketItem], first: bool, zone: tzinfo | None = None
) -> PrintTicket:
    """The slip for ``items``; times in ``zone`` (the location's, what the kitchen's clock shows)."""
    return PrintTicket(
        ticket_id=ticket_id_for(order.id, station),
        station=station,
        order_number=order_number(order),
        version=order.version,
        heading="NEW" if first else f"UPDATE v{order.version}",
        dining_option=order.dining_option.value,
        guest=guest_label(order),
        opened_at=_local(order.opened_at, zone),
        promised_at=_local(order.promised_at, zone) if order.promised_at is not None else None,
        items=items,
    )
