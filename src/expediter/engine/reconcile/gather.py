"""What the checks compare, from the lineage: each order version's deliveries, the POS's answer, how
an order arrived from a system with webhooks and a poll."""

from __future__ import annotations

from expediter.engine.inbox import StoredMessage
from expediter.engine.reconcile.day import newest_by_ref
from expediter.ledger.lineage import LinkRole, LinkRow
from expediter.ledger.transfers import Transfer, TransferOutcome
from expediter.model.labor import TimePunch
from expediter.model.location import Location
from expediter.model.order import Order, order_totals
from expediter.monitor.reconcile.kitchen import Handed
from expediter.monitor.reconcile.model import CheckName, CheckResult, CheckState
from expediter.monitor.reconcile.online import SentOrder
from expediter.monitor.reconcile.webhooks import Arrival, SourceOrder


def one_per_check(results: list[CheckResult]) -> list[CheckResult]:
    """A check that runs per flow (two kitchens) is stored once per day: the first that differs."""
    chosen: dict[CheckName, CheckResult] = {}
    for result in results:
        known = chosen.get(result.check)
        if known is None or (known.state is not CheckState.DIFFER and result.state is CheckState.DIFFER):
            chosen[result.check] = result
    return list(chosen.values())


def attempts_on(links: list[LinkRow], transfers: dict[int, Transfer], flow_id: str) -> list[Transfer]:
    found = [transfers[link.transfer_id] for link in links if link.role is LinkRole.CARRIED]
    return sorted((t for t in found if t.flow_id == flow_id), key=lambda t: (t.started_at, t.id or 0))


def handed_version(order: Order, attempts: list[Transfer]) -> Handed:
    delivered = [t for t in attempts if t.outcome is TransferOutcome.SUCCEEDED]
    if delivered:
        return Handed(order=order, delivered_at=delivered[0].started_at)
    last = attempts[-1] if attempts else None
    return Handed(
        order=order, state=str(last.outcome) if last else "pending", error=last.error if last else ""
    )


def sent_order(order: Order, attempts: list[Transfer]) -> SentOrder:
    total = order_totals(order).total.amount
    delivered = [t for t in attempts if t.outcome is TransferOutcome.SUCCEEDED]
    if delivered:
        return SentOrder(order_id=order.id, total=total, confirmed=True, remote_ref=delivered[-1].remote_ref)
    last = attempts[-1] if attempts else None
    state = str(last.outcome) if last else "pending"
    return SentOrder(
        order_id=order.id, total=total, confirmed=False, state=state, error=last.error if last else ""
    )


def source_orders(
    pairs: list[tuple[StoredMessage, Order]], links: dict[int, list[LinkRow]], found: set[int]
) -> list[SourceOrder]:
    """Per order of the system: how its versions arrived, and whether the nightly poll listed it."""
    roles: dict[str, set[LinkRole]] = {}
    listed: dict[str, bool] = {}
    newest = newest_by_ref(pairs)
    for message, order in pairs:
        roles.setdefault(order.id, set()).update(link.role for link in links[message.id])
        listed[order.id] = listed.get(order.id, False) or message.id in found
    orders = []
    for order_id, (_, order) in sorted(newest.items()):
        seen = roles[order_id]
        arrival = (
            Arrival.WEBHOOK
            if LinkRole.PRODUCED in seen
            else Arrival.POLL
            if LinkRole.POLLED in seen
            else Arrival.OTHER
        )
        orders.append(
            SourceOrder(
                order_id=order_id,
                total=order_totals(order).total.amount,
                arrival=arrival,
                found_by_poll=listed[order_id],
            )
        )
    return orders


def worked_on(punch: TimePunch, location: Location, day: object) -> bool:
    return location.business_date_for(punch.clock_in) == day
