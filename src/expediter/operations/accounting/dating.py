"""Which business date a sale and a refund belong to: the day each one happened, not the other's.

A cash sale on 2 March refunded on 3 March is two events on two days: the 2 March close books the
sale, the 3 March close books the refund (and its drawer is that much lighter). Booking the refund
on the sale's date would miss the 2 March journal, already posted under its document number, and
leave the 3 March drawer short.

The rules, used by the journal and the sales summary alike:

- a sale is on ``order.business_date`` (set by the hub), else on the location's clock at ``opened_at``;
- a refund is on the location's business date of its ``created_at``;
- a refund without ``created_at`` cannot be dated by itself, so it stays on its order's date;
- a refund never lands before its sale (a POS clock behind the hub's): it is clamped to the sale's date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from expediter.model.location import Location
from expediter.model.order import Order, Refund


def sale_date(order: Order, location: Location) -> date:
    """The business date of the sale (the hub's, else from the location's clock)."""
    return order.business_date or location.business_date_for(order.opened_at)


def refund_date(refund: Refund, order: Order, location: Location) -> date:
    """The business date a refund is booked on (see the module's rules)."""
    sold = sale_date(order, location)
    if refund.created_at is None:
        return sold
    return max(location.business_date_for(refund.created_at), sold)


def refunds_on(order: Order, location: Location | None, business_date: date) -> list[Refund]:
    """The order's refunds booked on ``business_date``; without a location every refund stays with
    its order (the caller chose the day's orders, and nothing else can date them)."""
    if location is None:
        return list(order.refunds)
    return [r for r in order.refunds if refund_date(r, order, location) == business_date]


def refund_dates(order: Order, location: Location) -> set[date]:
    """Every business date on which the order has a refund booked."""
    return {refund_date(refund, order, location) for refund in order.refunds}


def refunds_by_day(orders: Iterable[Order], location: Location) -> dict[date, list[Order]]:
    """Orders indexed under each business date they carry a refund on (an order refunded on two
    days is under both); the sale's own date is left out: the order is already that day's."""
    by_day: dict[date, list[Order]] = {}
    for order in orders:
        if not order.refunds:
            continue
        sold = sale_date(order, location)
        for day in sorted(refund_dates(order, location) - {sold}):
            by_day.setdefault(day, []).append(order)
    return by_day


__all__ = ["refund_date", "refund_dates", "refunds_by_day", "refunds_on", "sale_date"]
