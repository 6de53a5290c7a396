"""From an alert to the people who must hear it: the flow's ``alert_route`` names channels.

A flow without a declared route uses the route ``default``; a catalog without one logs. One channel
failing (the mail server is down) never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import httpx
import structlog

from expediter.catalog.schema import Catalog
from expediter.engine.storage.base import Storage, Tx
from expediter.errors import DeliveryError
from expediter.monitor.alert_store import drop_alert, open_alerts, save_alert
from expediter.monitor.alerts import DEFAULT_RULES, Alert, AlertBook, AlertKind, AlertRule, rule_for
from expediter.monitor.channels import Channel, LogChannel, build_channel
from expediter.monitor.health import FlowStatus, Health, flow_health

log = structlog.get_logger("expediter.alerts")
DEFAULT_ROUTE = "default"


class AlertRouter:
    def __init__(self, catalog: Catalog, channels: Mapping[str, Channel]) -> None:
        self.catalog = catalog
        self.channels = dict(channels)
        self.routes = {route.id: route.channels for route in catalog.alert_routes}

    @classmethod
    def from_catalog(
        cls, catalog: Catalog, base_dir: Path | None = None, client: httpx.AsyncClient | None = None
    ) -> AlertRouter:
        channels = {c.id: build_channel(c, base_dir, client) for c in catalog.alert_channels}
        return cls(catalog, channels)

    def channels_for(self, alert: Alert) -> list[Channel]:
        flow = self.catalog.flow(alert.flow_id) if alert.flow_id else None
        route = flow.alert_route if flow else DEFAULT_ROUTE
        names = self.routes.get(route) or self.routes.get(DEFAULT_ROUTE)
        if not names:
            return [LogChannel()]
        return [self.channels[name] for name in names if name in self.channels]

    async def dispatch(self, alert: Alert) -> dict[str, str | None]:
        """Send ``alert`` to each channel of its route; returns channel id → error text (``None`` = sent)."""
        flow = self.catalog.flow(alert.flow_id) if alert.flow_id else None
        results: dict[str, str | None] = {}
        for channel in self.channels_for(alert):
            try:
                await channel.send(alert, flow)
                results[channel.id] = None
            except DeliveryError as exc:
                results[channel.id] = str(exc)
                log.error("alert_channel_failed", channel=channel.id, rule=alert.rule_id, error=str(exc))
        return results


class Alerting:
    """The book and the router together: what the engine calls when a condition is seen or clears.

    With ``storage`` (the hub's database) every change is written through to it (see
    :mod:`expediter.monitor.alert_store`), so any process reads the same open alerts."""

    def __init__(
        self,
        router: AlertRouter,
        rules: Sequence[AlertRule] = DEFAULT_RULES,
        storage: Storage | None = None,
    ) -> None:
        self.router = router
        self.rules = tuple(rules)
        self.book = AlertBook()
        self.storage = storage

    async def load(self) -> None:
        """Take up the alerts that were firing when the watching process last stopped."""
        if self.storage is not None:
            self.book.restore(await self.storage.read(open_alerts))

    async def open_alerts(self) -> list[Alert]:
        """The firing alerts, as every process of this hub sees them."""
        if self.storage is None:
            return self.book.firing()
        return await self.storage.read(open_alerts)

    async def fire(
        self,
        kind: AlertKind,
        message: str,
        now: datetime,
        flow_id: str | None = None,
        location_id: str | None = None,
        *,
        occurrence: bool = True,
    ) -> Alert | None:
        """``occurrence=False`` when a watch finds a condition still true (the count stays)."""
        rule = rule_for(kind, self.rules, flow_id)
        before = self.book.get(rule, flow_id, location_id)
        seen = (before.message, before.count) if before else None
        alert = self.book.fire(rule, message, now, flow_id, location_id, occurrence=occurrence)
        current = self.book.get(rule, flow_id, location_id)
        if current is not None and (current.message, current.count) != seen:
            await self._write(save_alert, current)
        if alert is not None:
            await self.router.dispatch(alert)
        return alert

    async def resolve(
        self, kind: AlertKind, now: datetime, flow_id: str | None = None, location_id: str | None = None
    ) -> Alert | None:
        alert = self.book.resolve(rule_for(kind, self.rules, flow_id), now, flow_id, location_id)
        if alert is not None:
            await self._write(drop_alert, alert)
            await self.router.dispatch(alert)
        return alert

    async def _write(self, change: Callable[[Tx, Alert], None], alert: Alert) -> None:
        if self.storage is not None:
            await self.storage.write(lambda tx: change(tx, alert))

    async def evaluate_health(self, statuses: Mapping[str, FlowStatus], now: datetime) -> None:
        """Fire or resolve failure and lateness alerts from each enabled flow's health."""
        catalog = self.router.catalog
        for flow in catalog.flows:
            if not flow.enabled:
                continue
            timezone = catalog.locations[0].timezone if catalog.locations else "UTC"
            health = flow_health(flow, statuses.get(flow.id), now, timezone)
            await self._apply(
                AlertKind.FAILURE, health == Health.FAILING, flow.id, now, _failing_text(flow.id)
            )
            await self._apply(AlertKind.LATENESS, health == Health.LATE, flow.id, now, _late_text(flow.id))

    async def evaluate_dead_letters(self, dead_by_flow: Mapping[str, int], now: datetime) -> None:
        """One dead-letter alert per flow that has dead letters, saying how many (the number the
        dashboard shows); resolved as soon as the flow has none (after a replay, at once)."""
        watched = {flow.id for flow in self.router.catalog.flows} | set(dead_by_flow)
        watched |= {a.flow_id for a in self.book.firing() if a.kind is AlertKind.DEAD_LETTER and a.flow_id}
        for flow_id in sorted(watched):
            count = dead_by_flow.get(flow_id, 0)
            await self._apply(
                AlertKind.DEAD_LETTER, count > 0, flow_id, now, dead_letter_text(flow_id, count)
            )

    async def _apply(
        self, kind: AlertKind, condition: bool, flow_id: str, now: datetime, message: str
    ) -> None:
        if condition:
            await self.fire(kind, message, now, flow_id, occurrence=False)
        else:
            await self.resolve(kind, now, flow_id)


def dead_letter_text(flow_id: str, count: int) -> str:
    noun = "dead letter" if count == 1 else "dead letters"
    return (
        f"Flow {flow_id} has {count} {noun} (deliveries that gave up retrying); fix the cause, then"
        f" replay them from the dashboard or with `expediter replay --flow {flow_id} --all`."
    )


def _failing_text(flow_id: str) -> str:
    return f"Flow {flow_id} is failing: its last transfer did not succeed."


def _late_text(flow_id: str) -> str:
    return f"Flow {flow_id} is late: its scheduled run has not succeeded by its deadline."
