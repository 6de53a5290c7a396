"""What a flow's page reads from the hub: its transfers (filtered), its dead letters with their
payloads (cards masked), its alerts with what each channel was told, its drills, and the live
health of every flow for the home page's poll.

Every read goes through the module that owns its table (the ledger, the deliveries, the alert
store, the drills); nothing here writes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import msgspec

from expediter.catalog.schema import Catalog, Flow
from expediter.engine.hub import Hub
from expediter.ledger import Transfer, TransferOutcome
from expediter.ledger.drills import Drill, drills_of
from expediter.model.cards import mask_card_numbers
from expediter.model.time import zone
from expediter.monitor import alert_store
from expediter.monitor.alert_store import Notification
from expediter.monitor.alerts import Alert
from expediter.monitor.health import Health, flow_health
from expediter.monitor.ledger_view import statuses_from_ledger
from expediter.web.dashboard_data import DEAD_LETTERS_READ
from expediter.web.visibility import Sees, alert_visible, everything, flow_visible, located

TRANSFERS_SHOWN = 200
DEAD_LETTERS_SHOWN = 200
ALERTS_SHOWN = 50
PAYLOAD_SHOWN = 20_000
"""Characters of a dead letter's payload shown on the page (the rest is cut, and says so)."""


class TransferFilters(msgspec.Struct, kw_only=True):
    """The flow page's filters, as the query string gives them (anything unreadable is no filter)."""

    outcome: TransferOutcome | None = None
    start: date | None = None
    end: date | None = None
    location: str | None = None
    text: str = ""

    @classmethod
    def from_query(cls, query: Any, catalog: Catalog) -> TransferFilters:
        location = query.get("location") or None
        return cls(
            outcome=_outcome(query.get("outcome")),
            start=_day(query.get("from")),
            end=_day(query.get("to")),
            location=location if location and catalog.location(location) else None,
            text=(query.get("q") or "").strip()[:200],
        )

    def bounds(self, timezone: str) -> tuple[datetime | None, datetime | None]:
        """[from 00:00, the day after ``to`` 00:00) on the hub's first location's clock."""
        tz = zone(timezone)
        since = datetime.combine(self.start, time(0), tzinfo=tz) if self.start else None
        until = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz) if self.end else None
        return since, until


def _outcome(text: str | None) -> TransferOutcome | None:
    try:
        return TransferOutcome(text) if text else None
    except ValueError:
        return None


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def first_timezone(catalog: Catalog) -> str:
    return catalog.locations[0].timezone if catalog.locations else "UTC"


async def flow_transfers(
    hub: Hub, flow: Flow, filters: TransferFilters, sees: Sees = everything
) -> list[Transfer]:
    """Newest first; ``sees``: only a person's locations (a location they do not see: none)."""
    if filters.location is not None and not sees(filters.location):
        return []
    since, until = filters.bounds(first_timezone(hub.catalog))
    limited = sees is not everything and filters.location is None
    transfers: list[Transfer] = await hub.ledger.transfers(
        flow_id=flow.id,
        outcome=filters.outcome,
        since=since,
        until=until,
        location_id=filters.location,
        text=filters.text or None,
        limit=TRANSFERS_SHOWN * 5 if limited else TRANSFERS_SHOWN,  # room for the other locations'
    )
    return located(transfers, sees, lambda t: t.location_id)[:TRANSFERS_SHOWN]


class ShownLetter(msgspec.Struct, kw_only=True):
    """A dead letter as the page shows it."""

    id: int
    location_id: str | None
    attempts: int
    error: str
    died_at: datetime
    received_at: datetime
    kind: str
    content_type: str
    payload: str
    """Pretty-printed when it is JSON, card numbers masked, cut at :data:`PAYLOAD_SHOWN`."""
    holds_lane: bool


def shown_payload(payload: bytes, content_type: str) -> str:
    if "json" in content_type:
        try:
            text = msgspec.json.format(payload, indent=2).decode("utf-8", "replace")
        except msgspec.DecodeError:
            text = payload.decode("utf-8", "replace")
    else:
        text = payload.decode("utf-8", "replace")
    text = mask_card_numbers(text)
    if len(text) > PAYLOAD_SHOWN:
        return text[:PAYLOAD_SHOWN] + f"\n… ({len(text) - PAYLOAD_SHOWN} more characters)"
    return text


async def flow_dead_letters(hub: Hub, flow_id: str, sees: Sees = everything) -> list[ShownLetter]:
    """Oldest first; ``sees``: only a person's locations."""
    limit = DEAD_LETTERS_SHOWN if sees is everything else DEAD_LETTERS_SHOWN * 5
    found = await hub.deliveries.dead_letters_with_payload(flow_id, limit)
    letters = located(found, sees, lambda letter: letter.record.location_id)[:DEAD_LETTERS_SHOWN]
    return [
        ShownLetter(
            id=letter.record.id,
            location_id=letter.record.location_id,
            attempts=letter.record.attempts,
            error=letter.record.last_error,
            died_at=letter.record.updated_at,
            received_at=letter.received_at,
            kind=letter.kind,
            content_type=letter.content_type,
            payload=shown_payload(letter.payload, letter.content_type),
            holds_lane=letter.record.holds_lane,
        )
        for letter in letters
    ]


class AlertEntry(msgspec.Struct, kw_only=True):
    alert: Alert
    notifications: list[Notification]


async def flow_alerts(hub: Hub, flow_id: str) -> list[AlertEntry]:
    alerts = await hub.storage.read(lambda tx: alert_store.alert_history(tx, flow_id, ALERTS_SHOWN))
    ids = [a.id for a in alerts if a.id is not None]
    sent = await hub.storage.read(lambda tx: alert_store.notifications(tx, ids))
    by_alert: dict[int, list[Notification]] = {}
    for notification in sent:
        by_alert.setdefault(notification.alert_id, []).append(notification)
    return [AlertEntry(alert=a, notifications=by_alert.get(a.id or 0, [])) for a in alerts]


async def flow_alert(hub: Hub, alert_id: int) -> Alert | None:
    found: Alert | None = await hub.storage.read(lambda tx: alert_store.alert_by_id(tx, alert_id))
    return found


async def flow_drills(hub: Hub, flow_id: str) -> list[Drill]:
    found: list[Drill] = await hub.storage.read(lambda tx: drills_of(tx, flow_id))
    return found


class LiveFlow(msgspec.Struct, kw_only=True):
    id: str
    health: Health
    last_transfer_at: datetime | None = None
    last_outcome: str | None = None


class LiveHealth(msgspec.Struct, kw_only=True):
    """What the home page polls (``/flows/health.json``): a few indexed reads, no day scans."""

    at: datetime
    flows: list[LiveFlow]
    counts: dict[str, int]
    alerts: int
    dead_letters: int


async def live_health(hub: Hub, now: datetime, sees: Sees = everything) -> LiveHealth:
    """``sees``: as a person limited to some locations sees the home page (their flows, and of
    those their locations' alerts and dead letters)."""
    catalog: Catalog = hub.catalog
    statuses = await statuses_from_ledger(hub.ledger, now, count_failures=False)
    timezone = first_timezone(catalog)
    flows = []
    for flow in catalog.flows:
        if not flow_visible(catalog, flow.id, sees):
            continue
        status = statuses.get(flow.id)
        flows.append(
            LiveFlow(
                id=flow.id,
                health=flow_health(flow, status, now, timezone),
                last_transfer_at=status.last_transfer_at if status else None,
                last_outcome=status.last_outcome if status else None,
            )
        )
    alerting = getattr(hub, "alerting", None)
    open_alerts = list(await alerting.open_alerts()) if alerting is not None else []
    alerts = sum(alert_visible(catalog, alert, sees) for alert in open_alerts)
    counts = {str(h): sum(f.health == h for f in flows) for h in Health}
    return LiveHealth(at=now, flows=flows, counts=counts, alerts=alerts, dead_letters=await _dead(hub, sees))


async def _dead(hub: Hub, sees: Sees) -> int:
    if sees is everything:  # counted in SQL
        return sum((await hub.deliveries.dead_by_flow()).values())
    dead = await hub.deliveries.dead_letters(limit=DEAD_LETTERS_READ)
    return sum(1 for d in dead if flow_visible(hub.catalog, d.flow_id, sees) and sees(d.location_id))
