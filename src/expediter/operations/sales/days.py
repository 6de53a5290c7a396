"""The closed days of an export request: what the engine hands the back-office file connectors.

Each business date of the request closes the orders sold on it plus the earlier orders refunded on
it (a refund is booked on the day it happened, as in the journal).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from expediter.model.location import Location
from expediter.model.order import Order
from expediter.model.sales import ClosedDay
from expediter.operations.accounting.export import business_dates, closing_orders_by_day
from expediter.operations.sales.close import close_day
from expediter.plugin.base import ExportRequest


def closed_day(location: Location, business_date: date, orders: Iterable[Order]) -> ClosedDay:
    """The day's summary and product mix, from one pass over the orders."""
    day = close_day(location, business_date, orders)
    return ClosedDay(summary=day.summary(), product_mix=day.product_mix())


def closed_days(request: ExportRequest) -> list[ClosedDay]:
    """One closed day per business date of the request, in date order."""
    by_day = closing_orders_by_day(request)
    return [
        closed_day(request.location, day, by_day.get(day, []))
        for day in business_dates(request.start_date, request.end_date)
    ]


__all__ = ["closed_day", "closed_days"]
