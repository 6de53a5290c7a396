"""From an alert to the people who must hear it, and when they hear it again.

A flow's ``alert_route`` names channels; a flow without a declared route uses the route
``default``; a catalog without one logs. A flow whose ``contact`` is a channel id has that channel
hear its alerts too. One channel failing (the mail server is down) never stops the others.

The life of an alert, as the channels hear it::

    firing ──(repeat_minutes, nobody acknowledged)──► repeat … ──(escalate_after_minutes)──► escalation
       │                                                                  (the route's escalate_to)
       ├──(someone acknowledges: the flow page, ``expediter alerts ack ID``)──► acknowledged (no more
       │                                                                         repeats or escalation)
       └──(the condition clears)──► resolved

Each notification and its outcome per channel is written beside the alert
(:mod:`expediter.monitor.alert_store`), so the flow page and ``expediter drill`` can tell whether
it reached its channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import structlog

from expediter.catalog.schema import AlertRoute, Catalog, Flow
from expediter.errors import DeliveryError
from expediter.monitor import alert_store
from expediter.monitor.alert_store import Notification
from expediter.monitor.alerts import (
    DEFAULT_RULES,
    Alert,
    AlertBook,
    AlertKind,
    AlertRule,
    AlertState,
    rule_for,
)
from expediter.monitor.channels import Channel, LogChannel, Notice, NoticeEvent, build_channel
from expediter.monitor.health import FlowStatus, Health, flow_health
from expediter.storage.base import Storage, Tx

log = structlog.get_logger("expediter.alerts")
DEFAULT_ROUTE = "default"
AtRisk = Callable[[Flow, datetime], Awaitable[str]]
"""The money at risk for a flow's alert, in words (empty when the data does not say)."""
Results = dict[str, str | None]
"""Channel id → the error that stopped it (``None``: sent)."""


def hub_url(catalog: Catalog) -> str:
    """Where people reach the hub's pages: ``hub.public_url``, else its own address."""
    if catalog.hub.public_url:
        return catalog.hub.public_url.rstrip("/")
    return f"http://{catalog.hub.host}:{catalog.hub.port}"


def flow_link(catalog: Catalog, flow_id: str) -> str:
    return f"{hub_url(catalog)}/flows/{quote(flow_id, safe='')}"


class AlertRouter:
    def __init__(self, catalog: Catalog, channels: Mapping[str, Channel]) -> None:
        self.catalog = catalog
        self.channels = dict(channels)
        self.routes = {route.id: route for route in catalog.alert_routes}

    @classmethod
    def from_catalog(
        cls, catalog: Catalog, base_dir: Path | None = None, client: httpx.AsyncClient | None = None
    ) -> AlertRouter:
        channels = {c.id: build_channel(c, base_dir, client) for c in catalog.alert_channels}
        return cls(catalog, channels)

    def flow_of(self, alert: Alert) -> Flow | None:
        return self.catalog.flow(alert.flow_id) if alert.flow_id else None

    def route_for(self, alert: Alert) -> AlertRoute | None:
        return self.route_of(self.flow_of(alert))

    def route_of(self, flow: Flow | None) -> AlertRoute | None:
        name = flow.alert_route if flow else DEFAULT_ROUTE
        return self.routes.get(name) or self.routes.get(DEFAULT_ROUTE)

    def channel_names_for(self, alert: Alert) -> list[str]:
        return self.channel_names_of(self.flow_of(alert))

    def channel_names_of(self, flow: Flow | None) -> list[str]:
        """The route's channels, and the flow's contact when it names a channel; ``log`` (the
        hub's log) when there is neither."""
        route = self.route_of(flow)
        names = list(route.channels) if route else []
        declared = {c.id for c in self.catalog.alert_channels}
        if flow is not None and flow.contact in declared and flow.contact not in names:
            names.append(flow.contact)
        return names or [LogChannel().id]

    def channels_for(self, alert: Alert) -> list[Channel]:
        names = self.channel_names_for(alert)
        if names == [LogChannel().id] and LogChannel().id not in self.channels:
            return [LogChannel()]
        return [self.channels[name] for name in names if name in self.channels]

    def escalation_channels(self, alert: Alert) -> list[Channel]:
        route = self.route_for(alert)
        names = route.escalate_to if route else []
        return [self.channels[name] for name in names if name in self.channels]

    def notice(self, alert: Alert, event: NoticeEvent, *, drill: bool = False) -> Notice:
        flow = self.flow_of(alert)
        link = flow_link(self.catalog, flow.id) if flow else ""
        owner, contact = (flow.owner, flow.contact) if flow else ("", "")
        return Notice(
            alert=alert, flow=flow, event=event, link=link, owner=owner, contact=contact, drill=drill
        )

    async def dispatch(
        self,
        alert: Alert,
        event: NoticeEvent | None = None,
        channels: Sequence[Channel] | None = None,
        *,
        drill: bool = False,
    ) -> Results:
        """Send ``alert`` to ``channels`` (its route's by default); returns channel id → error."""
        if event is None:
            event = NoticeEvent.RESOLVED if alert.state is AlertState.RESOLVED else NoticeEvent.FIRING
        notice = self.notice(alert, event, drill=drill)
        results: Results = {}
        for channel in self.channels_for(alert) if channels is None else channels:
            try:
                await channel.send(notice)
                results[channel.id] = None
            except DeliveryError as exc:
                results[channel.id] = str(exc)
                log.error("alert_channel_failed", channel=channel.id, rule=alert.rule_id, error=str(exc))
        return results


class Alerting:
    """The book and the router together: what the engine calls when a condition is seen or clears,
    and :meth:`tick`, which repeats, escalates and reads acknowledgements back.

    With ``storage`` (the hub's database) every change is written through to it (see
    :mod:`expediter.monitor.alert_store`), so any process reads the same alerts."""

    def __init__(
        self,
        router: AlertRouter,
        rules: Sequence[AlertRule] = DEFAULT_RULES,
        storage: Storage | None = None,
        at_risk: AtRisk | None = None,
    ) -> None:
        self.router = router
        self.rules = tuple(rules)
        self.book = AlertBook()
        self.storage = storage
        self.at_risk = at_risk
        self.drilling: set[str] = set()
        """Flows being drilled now: their alerts say so."""

    async def load(self) -> None:
        """Take up the alerts that were open when the watching process last stopped."""
        if self.storage is not None:
            self.book.restore(await self.storage.read(alert_store.open_alerts))

    async def open_alerts(self) -> list[Alert]:
        """The open alerts, as every process of this hub sees them."""
        if self.storage is None:
            return self.book.firing()
        return await self.storage.read(alert_store.open_alerts)

    async def fire(
        self,
        kind: AlertKind,
        message: str,
        now: datetime,
        flow_id: str | None = None,
        location_id: str | None = None,
        *,
        subject: str | None = None,
        occurrence: bool = True,
    ) -> Alert | None:
        """``occurrence=False`` when a watch finds a condition still true (the count stays).
        Returns the alert when it newly fired (its channels were told)."""
        rule = rule_for(kind, self.rules, flow_id)
        before = self.book.get(rule, flow_id, location_id, subject)
        seen = (before.message, before.count) if before else None
        alert = self.book.fire(
            rule, message, now, flow_id, location_id, subject=subject, occurrence=occurrence
        )
        if alert is not None:
            await self._announce(alert, now)
            return alert
        current = self.book.get(rule, flow_id, location_id, subject)
        if current is not None and (current.message, current.count) != seen:
            await self._write(alert_store.update_alert, current)
        return None

    async def _announce(self, alert: Alert, now: datetime) -> None:
        alert.at_risk = await self._money_at_risk(alert, now)
        alert.notified_at = now
        if self.storage is not None:
            alert.id = await self.storage.write(lambda tx: alert_store.insert_alert(tx, alert))
        await self.notify(alert, NoticeEvent.FIRING, now)

    async def resolve(
        self,
        kind: AlertKind,
        now: datetime,
        flow_id: str | None = None,
        location_id: str | None = None,
        *,
        subject: str | None = None,
    ) -> Alert | None:
        rule = rule_for(kind, self.rules, flow_id)
        alert = self.book.resolve(rule, now, flow_id, location_id, subject)
        if alert is not None:
            alert.last_seen_at = now
            await self._write(alert_store.close_alert, alert)
            await self.notify(alert, NoticeEvent.RESOLVED, now, self._everyone_told(alert))
        return alert

    def _everyone_told(self, alert: Alert) -> list[Channel]:
        """The route's channels, and the second contact's once it was escalated to."""
        channels = self.router.channels_for(alert)
        if alert.escalated_at is not None:
            channels += [c for c in self.router.escalation_channels(alert) if c not in channels]
        return channels

    async def notify(
        self, alert: Alert, event: NoticeEvent, now: datetime, channels: Sequence[Channel] | None = None
    ) -> Results:
        """Tell ``channels`` (the route's by default) and write down what each said."""
        drill = alert.flow_id is not None and alert.flow_id in self.drilling
        results = await self.router.dispatch(alert, event, channels, drill=drill)
        if self.storage is not None and alert.id is not None:
            alert_id = alert.id
            records = [
                Notification(
                    alert_id=alert_id, channel=name, event=str(event), sent_at=now, error=error or ""
                )
                for name, error in results.items()
            ]
            await self.storage.write(lambda tx: alert_store.record_notifications(tx, records))
        return results

    # -- repeat, escalate, acknowledge -----------------------------------------------------------

    async def tick(self, now: datetime) -> None:
        """Read acknowledgements made by any process, then repeat and escalate what nobody
        acknowledged. The watch calls it every few seconds."""
        await self._read_acknowledgements(now)
        for alert in self.book.firing():
            if alert.state is not AlertState.FIRING:
                continue
            route = self.router.route_for(alert)
            if route is None:
                continue
            await self._maybe_repeat(alert, route, now)
            await self._maybe_escalate(alert, route, now)

    async def _maybe_repeat(self, alert: Alert, route: AlertRoute, now: datetime) -> None:
        last = alert.notified_at or alert.started_at
        if route.repeat_minutes <= 0 or now - last < timedelta(minutes=route.repeat_minutes):
            return
        alert.notified_at = now
        alert.at_risk = await self._money_at_risk(alert, now)
        await self._write(alert_store.update_alert, alert)
        await self.notify(alert, NoticeEvent.REPEAT, now, self._everyone_told(alert))

    async def _maybe_escalate(self, alert: Alert, route: AlertRoute, now: datetime) -> None:
        if not route.escalate_to or alert.escalated_at is not None:
            return
        if now - alert.started_at < timedelta(minutes=route.escalate_after_minutes):
            return
        alert.escalated_at = now
        await self._write(alert_store.update_alert, alert)
        await self.notify(alert, NoticeEvent.ESCALATION, now, self.router.escalation_channels(alert))

    async def _read_acknowledgements(self, now: datetime) -> None:
        if self.storage is None:
            return
        stored = {a.id: a for a in await self.storage.read(alert_store.open_alerts)}
        for alert in self.book.firing():
            row = stored.get(alert.id)
            if alert.state is AlertState.FIRING and row is not None and row.state is AlertState.ACKNOWLEDGED:
                alert.state = AlertState.ACKNOWLEDGED
                alert.acknowledged_at, alert.acknowledged_by = row.acknowledged_at, row.acknowledged_by
                await self.notify(alert, NoticeEvent.ACKNOWLEDGED, now, self._everyone_told(alert))

    async def acknowledge(self, alert_id: int, who: str, now: datetime) -> Alert | None:
        """Acknowledge from this process (see :func:`acknowledge_alert`); the watch tells the
        channels on its next tick."""
        if self.storage is None:
            return None
        return await acknowledge_alert(self.storage, alert_id, who, now)

    # -- evaluation ------------------------------------------------------------------------------

    async def _money_at_risk(self, alert: Alert, now: datetime) -> str:
        flow = self.router.flow_of(alert)
        if self.at_risk is None or flow is None or alert.kind is AlertKind.VOLUME:
            return ""
        try:
            return await self.at_risk(flow, now)
        except Exception:  # an estimate must never stop an alert
            log.exception("money_at_risk_failed", flow=flow.id)
            return ""

    async def _write(self, change: Callable[[Tx, Alert], None], alert: Alert) -> None:
        if self.storage is not None and alert.id is not None:
            await self.storage.write(lambda tx: change(tx, alert))

    async def evaluate_health(self, statuses: Mapping[str, FlowStatus], now: datetime) -> None:
        """Fire or resolve failure and lateness alerts from each enabled flow's health."""
        catalog = self.router.catalog
        for flow in catalog.flows:
            if not flow.enabled:
                continue
            timezone = catalog.locations[0].timezone if catalog.locations else "UTC"
            health = flow_health(flow, statuses.get(flow.id), now, timezone)
            await self.apply(
                AlertKind.FAILURE, health == Health.FAILING, flow.id, now, _failing_text(flow.id)
            )
            await self.apply(AlertKind.LATENESS, health == Health.LATE, flow.id, now, _late_text(flow.id))

    async def evaluate_dead_letters(self, dead_by_flow: Mapping[str, int], now: datetime) -> None:
        """One dead-letter alert per flow that has dead letters, saying how many (the number the
        dashboard shows); resolved as soon as the flow has none (after a replay, at once)."""
        watched = {flow.id for flow in self.router.catalog.flows} | set(dead_by_flow)
        watched |= {a.flow_id for a in self.book.firing() if a.kind is AlertKind.DEAD_LETTER and a.flow_id}
        for flow_id in sorted(watched):
            count = dead_by_flow.get(flow_id, 0)
            await self.apply(AlertKind.DEAD_LETTER, count > 0, flow_id, now, dead_letter_text(flow_id, count))

    async def apply(
        self,
        kind: AlertKind,
        condition: bool,
        flow_id: str | None,
        now: datetime,
        message: str,
        location_id: str | None = None,
        subject: str | None = None,
    ) -> None:
        """Fire (a watch seeing it: no new occurrence) while ``condition`` holds, else resolve."""
        if condition:
            await self.fire(kind, message, now, flow_id, location_id, subject=subject, occurrence=False)
        else:
            await self.resolve(kind, now, flow_id, location_id, subject=subject)


async def acknowledge_alert(storage: Storage, alert_id: int, who: str, now: datetime) -> Alert | None:
    """Acknowledge alert ``alert_id`` as ``who``, from any process: the alert as it now stands
    (``None`` when there is no such alert). The watching process stops repeating and escalating
    it and tells its channels who took it within seconds."""
    return await storage.write(lambda tx: alert_store.acknowledge(tx, alert_id, who, now))


def dead_letter_text(flow_id: str, count: int) -> str:
    noun = "dead letter" if count == 1 else "dead letters"
    return (
        f"Flow {flow_id} has {count} {noun} (deliveries that gave up retrying); fix the cause, then"
        f" replay them from the flow page or with `expediter replay --flow {flow_id} --all`."
    )


def _failing_text(flow_id: str) -> str:
    return f"Flow {flow_id} is failing: its last transfer did not succeed."


def _late_text(flow_id: str) -> str:
    return f"Flow {flow_id} is late: its scheduled run has not succeeded by its deadline."
