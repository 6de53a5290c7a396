"""Online orders sent = orders the POS confirmed."""

from __future__ import annotations

from expediter.monitor.reconcile.model import CheckState
from expediter.monitor.reconcile.online import OnlineFacts, SentOrder, check_online
from tests.monitor.reconcile.helpers import DAY, LOCATION


def _facts(orders: list[SentOrder]) -> OnlineFacts:
    return OnlineFacts(
        location_id=LOCATION.id, business_date=DAY, flow_id="online-to-pos", currency="USD", orders=orders
    )


def test_a_dead_letter_is_an_order_the_pos_never_confirmed_until_replayed() -> None:
    ok = SentOrder(order_id="web-1", total=2500, confirmed=True, remote_ref="http://pos/orders/1")
    dead = SentOrder(
        order_id="web-2", total=1800, confirmed=False, state="dead", error="HTTP 503 maintenance"
    )
    result = check_online(_facts([ok, dead]))
    assert result.state is CheckState.DIFFER
    [difference] = result.differences
    assert difference.record == "web-2"
    assert (
        difference.problem
        == "18.00 USD not confirmed by the POS: dead (HTTP 503 maintenance); replay it once the POS is back"
    )
    assert result.totals == {"sent": 4300, "confirmed": 2500}
    replayed = SentOrder(order_id="web-2", total=1800, confirmed=True, remote_ref="http://pos/orders/2")
    assert check_online(_facts([ok, replayed])).state is CheckState.AGREE
