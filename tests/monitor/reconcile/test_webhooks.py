"""Orders received by webhook = orders found by the nightly poll."""

from __future__ import annotations

from expediter.monitor.reconcile.model import CheckState
from expediter.monitor.reconcile.webhooks import Arrival, SourceOrder, WebhookFacts, check_webhooks
from tests.monitor.reconcile.helpers import DAY, LOCATION


def _facts(orders: list[SourceOrder], *, polled: bool = True, error: str = "") -> WebhookFacts:
    return WebhookFacts(
        location_id=LOCATION.id,
        business_date=DAY,
        system_id="square",
        flow_id="square-to-kitchen",
        currency="USD",
        polled=polled,
        poll_error=error,
        orders=orders,
    )


def test_an_order_only_the_webhooks_brought_differs_until_the_poll_finds_it() -> None:
    only_webhook = SourceOrder(order_id="sq-2", total=1999, arrival=Arrival.WEBHOOK, found_by_poll=False)
    both = SourceOrder(order_id="sq-1", total=1200, arrival=Arrival.WEBHOOK, found_by_poll=True)
    result = check_webhooks(_facts([both, only_webhook]))
    assert result.state is CheckState.DIFFER
    [difference] = result.differences
    assert difference.record == "sq-2" and difference.values == {"webhook": 1999, "poll": 0}
    found = SourceOrder(order_id="sq-2", total=1999, arrival=Arrival.WEBHOOK, found_by_poll=True)
    assert check_webhooks(_facts([both, found])).state is CheckState.AGREE


def test_orders_the_webhooks_missed_are_noted_and_agree_once_the_poll_stored_them() -> None:
    missed = SourceOrder(order_id="sq-3", total=800, arrival=Arrival.POLL, found_by_poll=True)
    result = check_webhooks(_facts([missed]))
    assert result.state is CheckState.AGREE
    assert result.notes == ["missed by the webhooks, stored by the poll: sq-3"]
    assert result.totals["missed by webhooks"] == 800


def test_a_failed_poll_differs_and_no_poll_yet_is_pending() -> None:
    assert check_webhooks(_facts([], polled=False)).state is CheckState.PENDING
    failed = check_webhooks(_facts([], error="square answered 401"))
    assert failed.state is CheckState.DIFFER and "401" in failed.differences[0].problem
