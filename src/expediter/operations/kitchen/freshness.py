"""When an order version is too old for the line: the age limits of the screens and the printers.

Why not ``opened_at``: an order's later versions are current long after it was opened (a dessert
added 45 minutes into a table, an online pre-order placed the day before for today's lunch). The
order carries no "this version was made at" stamp, so the age counts from the *newest* timestamp the
order carries (opened, closed, each payment and refund, the promised time); an order promised for
the future is never stale, however early it was placed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from expediter.model.order import Order


def last_activity(order: Order) -> datetime:
    """The newest timestamp ``order`` carries: the best sign of when this version became current."""
    stamps = [order.opened_at, order.closed_at, order.promised_at]
    stamps += [payment.created_at for payment in order.payments]
    stamps += [refund.created_at for refund in order.refunds]
    return max(stamp for stamp in stamps if stamp is not None)


def is_stale(order: Order, now: datetime, limit: timedelta) -> bool:
    """True when nothing on ``order`` happened within ``limit`` and it is not promised for later."""
    if order.promised_at is not None and order.promised_at > now:
        return False
    return now - last_activity(order) > limit
