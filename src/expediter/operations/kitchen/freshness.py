"""Whether the line should still cook an order version: the age limits of the screens and printers.

Why not ``opened_at``: an order's later versions are current long after it was opened (a dessert
added 45 minutes into a table, an online pre-order placed the day before for today's lunch). The
order carries no "this version was made at" stamp, so the age counts from the *newest* timestamp the
order carries that says the kitchen has work (opened, closed, each payment, the promised time); an
order promised for the future is never stale, however early it was placed. A refund is not such a
timestamp: refunding yesterday's check today cooks nothing.

An order the kitchen has **never seen** must pass more (:func:`first_sight_skip`), because the hub
also receives history: a day's checks loaded at the first start, a backlog after an outage, a
polling fallback catching up. Closed checks are cooked only when they closed a moment ago (a
counter order paid before it is cooked); checks of an earlier business day are history, unless
they are promised for later or only just crossed the day's start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from expediter.model.kitchen import is_stale, last_activity
from expediter.model.location import Location

__all__ = ["is_stale", "last_activity"]
from expediter.model.order import Order, OrderState


def kitchen_date_is_past(order: Order, now: datetime, location: Location) -> bool:
    """The order belongs to an earlier business day than today's at its location (the day it is
    promised for, else the day it was opened)."""
    belongs = location.business_date_for(order.promised_at or order.opened_at)
    return belongs < location.business_date_for(now)


def first_sight_skip(
    order: Order, now: datetime, *, open_limit: timedelta, closed_limit: timedelta, location: Location | None
) -> str:
    """Why the line should not cook ``order``, a version of an order it has never seen; ``''``
    when it should. ``location`` is the order's (``None`` when the hub does not know it)."""
    if order.promised_at is not None and order.promised_at > now:
        return ""
    quiet = now - last_activity(order)
    minutes = int(quiet.total_seconds() // 60)
    if order.state is OrderState.COMPLETED and quiet > closed_limit:
        return f"closed {minutes} minutes ago"
    if location is not None and quiet > closed_limit and kitchen_date_is_past(order, now, location):
        return f"from an earlier business day (nothing on it for {minutes} minutes)"
    if quiet > open_limit:
        return f"nothing on it for {minutes} minutes"
    return ""
