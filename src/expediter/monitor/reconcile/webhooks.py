"""Orders received by webhook = orders the nightly poll found.

After the close the hub polls the source system over the whole business day (the **nightly
poll**) and stores what it lacks. Two lists come out of comparing what arrived how:

- **missed by the webhooks**: orders the poll found first and stored. The hub now holds them, so
  the systems agree; they are listed as notes (a webhook subscription that misses orders is worth
  knowing about);
- **arrived only by webhook**: orders the hub holds from the system's webhooks that the system's
  own listing does not have (a deleted check, a location the poll does not cover). These differ,
  until a later nightly poll finds them.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import msgspec

from expediter.monitor.reconcile.common import plural, verdict
from expediter.monitor.reconcile.model import CheckName, CheckResult, Difference, Unit


class Arrival(StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"
    """The poll stored it: no webhook had brought it."""
    OTHER = "other"
    """Posted to the API or imported."""


class SourceOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    total: int
    """The order's total in minor units, for the listing."""
    arrival: Arrival
    found_by_poll: bool
    """The nightly poll listed it."""


class WebhookFacts(msgspec.Struct, kw_only=True):
    location_id: str
    business_date: date
    system_id: str
    flow_id: str
    currency: str
    polled: bool
    """A nightly poll of this day has run."""
    poll_error: str = ""
    orders: list[SourceOrder] = []


def check_webhooks(facts: WebhookFacts) -> CheckResult:
    by_webhook = [o for o in facts.orders if o.arrival is Arrival.WEBHOOK]
    missed = [o for o in facts.orders if o.arrival is Arrival.POLL]
    only_webhook = [o for o in by_webhook if not o.found_by_poll]
    differences = [
        Difference(
            record=o.order_id,
            problem=f"arrived by webhook; {facts.system_id}'s own listing of the day does not have it",
            values={"webhook": o.total, "poll": 0},
        )
        for o in only_webhook
    ]
    if facts.poll_error:
        differences.insert(
            0, Difference(record="nightly poll", problem=f"the nightly poll failed: {facts.poll_error}")
        )
    notes = [f"missed by the webhooks, stored by the poll: {o.order_id}" for o in missed]
    return verdict(
        CheckName.WEBHOOKS,
        facts.location_id,
        facts.business_date,
        differences,
        agreed=f"{plural(len(by_webhook), 'order')} by webhook, all found by the nightly poll"
        + (f"; {len(missed)} missed by the webhooks, stored by the poll" if missed else ""),
        pending="" if facts.polled else "the nightly poll has not run",
        flow_id=facts.flow_id,
        unit=Unit.MINOR,
        currency=facts.currency,
        totals={
            "webhook": sum(o.total for o in by_webhook),
            "poll": sum(o.total for o in facts.orders if o.found_by_poll),
            "missed by webhooks": sum(o.total for o in missed),
        },
        notes=notes,
    )
