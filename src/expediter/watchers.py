"""The alert kinds the running hub watches for besides failure, lateness and dead letters.

Each watcher reads what the hub knows (the inbox's counts, the webhook signature failures, the
kitchen's connected screens, the lanes waiting on a printer, the ledger's arrived files) and fires
or resolves one kind of alert through :class:`~expediter.monitor.routes.Alerting`:

- ``volume``: an event flow's last hour far from the same weekday's normal at that hour, per location
  (:mod:`expediter.monitor.volume`);
- ``signature_failures``: :data:`SIGNATURE_BURST` webhooks from one system rejected within
  :data:`SIGNATURE_WINDOW` (a rotated signing key); resolved once that long passes without one;
- ``offline``: a kitchen station whose screens have all been gone for the kitchen system's
  ``offline_minutes`` (a station no screen ever opened is not watched), or a printer whose lane
  has waited that long on a delivery that keeps failing;
- ``missing_file``: a file-arrival flow with ``expected_by`` that received no file in the day
  before its latest deadline.

The runtime also asks :func:`money_at_risk` for each alert it raises about a flow of orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import msgspec

from expediter.catalog.schema import Flow, SystemKind, Trigger
from expediter.engine.hub import Hub
from expediter.engine.inbox import count_arrivals
from expediter.engine.lanes import undelivered_payloads
from expediter.ledger.transfers import Direction, TransferOutcome
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Order, order_totals
from expediter.model.time import zone
from expediter.monitor import volume
from expediter.monitor.alerts import AlertKind
from expediter.monitor.routes import Alerting
from expediter.storage.base import Tx, to_iso

SIGNATURE_BURST = 5
SIGNATURE_WINDOW = timedelta(minutes=10)
AT_RISK_WINDOW = timedelta(hours=1)
ARRIVED = frozenset({TransferOutcome.SUCCEEDED, TransferOutcome.DUPLICATE})
_orders = msgspec.json.Decoder(Order)


class Watchers:
    def __init__(self, hub: Hub, alerting: Alerting) -> None:
        self.hub = hub
        self.alerting = alerting
        self.catalog = hub.catalog
        self._screens_seen: set[str] = set()
        self._screens_gone: dict[str, datetime] = {}

    async def watch(self, now: datetime, *, volume: bool = True) -> None:
        if volume:
            await self.volume(now)
        await self.signatures(now)
        await self.kitchen_screens(now)
        await self.printers(now)
        await self.missing_files(now)

    # -- volume ----------------------------------------------------------------------------------

    def volume_flows(self) -> list[Flow]:
        return [
            f
            for f in self.catalog.flows
            if f.enabled
            and f.trigger is Trigger.EVENT
            and f.volume_weeks > 0
            and f.data in volume.VOLUME_KINDS
        ]

    async def volume(self, now: datetime) -> None:
        watched = await self.hub.ledger.watched_since()
        for flow in self.volume_flows():
            for location in self._locations_of(flow.from_):
                current, history = await self._counts(flow, location, now, watched.get(flow.id))
                verdict = volume.verdict(current, history) if history else None
                text = volume.volume_text(flow.id, flow.data, location, now, current, history)
                await self.alerting.apply(
                    AlertKind.VOLUME, verdict is not None, flow.id, now, text, location.id
                )

    async def _counts(
        self, flow: Flow, location: Location, now: datetime, watched: datetime | None
    ) -> tuple[int, list[int]]:
        """This hour's count, and the same hour's in each earlier week (empty: not enough history)."""
        current, earlier = volume.same_hour_windows(now, location, flow.volume_weeks)
        if watched is None or watched > earlier[-1].start:
            return 0, []

        def query(tx: Tx) -> list[int]:
            return [
                count_arrivals(
                    tx,
                    flow.from_,
                    flow.data,
                    location.id,
                    window.business_dates(location),
                    to_iso(window.start),
                    to_iso(window.end),
                )
                for window in (current, *earlier)
            ]

        counts = await self.hub.storage.read(query)
        return counts[0], counts[1:]

    def _locations_of(self, system_id: str) -> list[Location]:
        system = self.catalog.system(system_id)
        served = set(system.locations) if system and system.locations else None
        return [loc for loc in self.catalog.locations if served is None or loc.id in served]

    # -- webhook signatures ----------------------------------------------------------------------

    async def signatures(self, now: datetime) -> None:
        failures: dict[str, Iterable[Any]] = getattr(self.hub, "signature_failures", {})
        for system_id, kept in list(failures.items()):
            recent = [f for f in list(kept) if f.at >= now - SIGNATURE_WINDOW]
            flows: list[str | None] = [f.id for f in self.catalog.flows if f.enabled and f.from_ == system_id]
            subject = None if flows else f"system {system_id}"
            for flow_id in flows or [None]:  # a system no flow reads from: one alert for the system
                if len(recent) >= SIGNATURE_BURST:
                    text = _signature_text(system_id, recent)
                    await self.alerting.fire(
                        AlertKind.SIGNATURE_FAILURES, text, now, flow_id, subject=subject, occurrence=False
                    )
                elif not recent:
                    await self.alerting.resolve(AlertKind.SIGNATURE_FAILURES, now, flow_id, subject=subject)

    # -- kitchen screens and printers ------------------------------------------------------------

    async def kitchen_screens(self, now: datetime) -> None:
        kitchen = self.hub.services.kitchen
        if kitchen is None:
            return
        system = self.catalog.system(kitchen.system_id)
        minutes = system.offline_minutes if system else 5
        flow = next((f for f in self.catalog.flows if f.enabled and f.to == kitchen.system_id), None)
        flow_id = flow.id if flow else None
        for station in sorted({*kitchen.stations(), *kitchen.screened_stations(), *self._screens_seen}):
            online = kitchen.screens_online(station) > 0
            if online:
                self._screens_seen.add(station)
                self._screens_gone.pop(station, None)
            elif station in self._screens_seen:
                self._screens_gone.setdefault(station, now)
            gone = self._screens_gone.get(station)
            offline = minutes > 0 and gone is not None and now - gone >= timedelta(minutes=minutes)
            text = _screen_text(station, gone, minutes) if gone is not None else ""
            await self.alerting.apply(
                AlertKind.OFFLINE, offline, flow_id, now, text, subject=f"station {station}"
            )

    async def printers(self, now: datetime) -> None:
        lanes = await self.hub.deliveries.waiting_lanes()
        for flow in self.catalog.flows:
            system = self.catalog.system(flow.to)
            if not flow.enabled or system is None or system.kind is not SystemKind.PRINTER:
                continue
            limit = timedelta(minutes=system.offline_minutes)
            stuck: dict[str | None, str] = {}
            for lane in lanes:
                since = lane.head.retrying_since or lane.head.updated_at
                if lane.head.flow_id == flow.id and system.offline_minutes > 0 and now - since >= limit:
                    stuck[lane.location_id] = _printer_text(
                        system.id, lane.location_id, since, lane.head.last_error
                    )
            open_places = {
                a.location_id
                for a in self.alerting.book.firing()
                if a.kind is AlertKind.OFFLINE and a.flow_id == flow.id
            }
            for location_id in set(stuck) | open_places:
                text = stuck.get(location_id, "")
                await self.alerting.apply(
                    AlertKind.OFFLINE, location_id in stuck, flow.id, now, text, location_id
                )

    # -- files that must arrive ------------------------------------------------------------------

    async def missing_files(self, now: datetime) -> None:
        watched = await self.hub.ledger.watched_since()
        for flow in self.catalog.flows:
            if not flow.enabled or flow.trigger is not Trigger.FILE_ARRIVAL or not flow.expected_by:
                continue
            timezone = self.catalog.locations[0].timezone if self.catalog.locations else "UTC"
            deadline = latest_deadline(flow.expected_by, now, timezone)
            since = watched.get(flow.id)
            if deadline is None or since is None or since > deadline:
                continue
            arrived = await self._arrived_since(flow.id, deadline - timedelta(days=1))
            text = (
                f"Flow {flow.id}: no file arrived from {flow.from_} by {flow.expected_by} ({timezone})"
                f" today. Check the sender's side and the transport ({flow.transport}); the file is"
                " picked up as soon as it lands."
            )
            await self.alerting.apply(AlertKind.MISSING_FILE, not arrived, flow.id, now, text)

    async def _arrived_since(self, flow_id: str, since: datetime) -> bool:
        transfers = await self.hub.ledger.transfers(flow_id=flow_id, since=since, limit=200)
        return any(t.direction is Direction.IN and t.outcome in ARRIVED for t in transfers)


def latest_deadline(expected_by: str, now: datetime, timezone: str) -> datetime | None:
    """The most recent local ``expected_by`` (``HH:MM``) at or before ``now``."""
    try:
        hours, minutes = (int(part) for part in expected_by.split(":"))
        by = time(hours, minutes)
    except ValueError:
        return None
    local = now.astimezone(zone(timezone))
    deadline = datetime.combine(local.date(), by, tzinfo=local.tzinfo)
    if deadline > local:
        deadline = datetime.combine(local.date() - timedelta(days=1), by, tzinfo=local.tzinfo)
    return deadline.astimezone(UTC)


async def money_at_risk(hub: Hub, flow: Flow, now: datetime) -> str:
    """For a flow of orders: what the orders of the last hour that it has not delivered add up to
    (``412.50 USD in 9 orders of the last hour not in pos``); empty otherwise."""
    if flow.data != "orders":
        return ""
    since = to_iso(now - AT_RISK_WINDOW)
    payloads = await hub.storage.read(lambda tx: undelivered_payloads(tx, flow.id, "orders", since))
    latest: dict[str, Order] = {}
    for payload in payloads:
        try:
            order = _orders.decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        latest[order.id] = order
    if not latest:
        return ""
    sums: dict[str, Money] = {}
    for order in latest.values():
        amount = order_totals(order).total
        sums[amount.currency] = sums[amount.currency] + amount if amount.currency in sums else amount
    money = " + ".join(m.format() for m in sums.values())
    noun = "order" if len(latest) == 1 else "orders"
    return f"{money} in {len(latest)} {noun} of the last hour not in {flow.to}"


def _signature_text(system_id: str, recent: list[Any]) -> str:
    latest = recent[-1]
    hint = f" {latest.hint}" if getattr(latest, "hint", "") else ""
    return (
        f"{len(recent)} webhooks from {system_id} failed their signature check in the last"
        f" {int(SIGNATURE_WINDOW.total_seconds() // 60)} minutes ({latest.message}); the hub refuses"
        f" them, so their data is not coming in. Was the signing key rotated? Put the new one where the"
        f" catalog's secret reference points.{hint}"
    )


def _screen_text(station: str, gone: datetime, minutes: int) -> str:
    return (
        f"No screen has shown the {station} station's tickets since {gone:%H:%M} UTC ({minutes} min"
        f" or more); cooks there may not see new orders. Turn the screen on, or open /kds/{station}"
        " on another one."
    )


def _printer_text(system_id: str, location_id: str | None, since: datetime, error: str) -> str:
    place = f" at {location_id}" if location_id else ""
    return (
        f"The printer {system_id}{place} has not taken a ticket since {since:%H:%M} UTC ({error})."
        " Check that it is on, has paper and is on the network; its tickets wait and print in order."
    )
