"""Online orders sent = orders the POS confirmed.

Every order an online-ordering system brought in for the day must reach the POS (so it is paid,
reported and its tips counted). The POS confirms an order by accepting its delivery; an order
whose delivery is a dead letter, still retrying or not yet tried is listed with the last error.
Replaying the dead letters (``expediter replay --flow F --all``, or the dashboard's button) makes
the POS confirm them, and the check agrees.
"""

from __future__ import annotations

from datetime import date

import msgspec

from expediter.monitor.reconcile.common import amount_text, plural, verdict
from expediter.monitor.reconcile.model import CheckName, CheckResult, Difference, Unit


class SentOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    total: int
    """The order's total in minor units."""
    confirmed: bool
    state: str = ""
    """When not confirmed: ``dead``, ``retrying`` or ``pending``."""
    error: str = ""
    remote_ref: str = ""
    """The POS's answer (its order URL) when confirmed."""


class OnlineFacts(msgspec.Struct, kw_only=True):
    location_id: str
    business_date: date
    flow_id: str
    currency: str
    orders: list[SentOrder]


def check_online(facts: OnlineFacts) -> CheckResult:
    differences = [_unconfirmed(o, facts.currency) for o in facts.orders if not o.confirmed]
    confirmed = [o for o in facts.orders if o.confirmed]
    return verdict(
        CheckName.ONLINE,
        facts.location_id,
        facts.business_date,
        differences,
        agreed=f"{plural(len(confirmed), 'online order')}, every one confirmed by the POS",
        flow_id=facts.flow_id,
        unit=Unit.MINOR,
        currency=facts.currency,
        totals={"sent": sum(o.total for o in facts.orders), "confirmed": sum(o.total for o in confirmed)},
    )


def _unconfirmed(order: SentOrder, currency: str) -> Difference:
    state = order.state or "pending"
    why = f" ({order.error[:200]})" if order.error else ""
    action = "; replay it once the POS is back" if state == "dead" else ""
    return Difference(
        record=order.order_id,
        problem=f"{amount_text(order.total, Unit.MINOR, currency)} not confirmed by the POS:"
        f" {state}{why}{action}",
        values={"sent": order.total, "confirmed": 0},
    )
