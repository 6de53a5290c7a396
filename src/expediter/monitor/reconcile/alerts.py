"""Reconciliation alerts: one per (flow, location) while any of its checks differs on any day of
the look-back, through the flow's alert route (its owner hears it); resolved once every one of
them agrees again (a re-run or a replay made them agree)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from expediter.monitor.alerts import AlertKind
from expediter.monitor.reconcile.model import CheckResult
from expediter.monitor.routes import Alerting

SHOWN = 5
"""Records named in an alert's message per check (the dashboard and the CLI list them all)."""


def alert_text(location_id: str, results: list[CheckResult]) -> str:
    parts = []
    for result in results:
        records = "; ".join(f"{d.record}: {d.problem}" for d in result.differences[:SHOWN])
        more = len(result.differences) - SHOWN
        tail = f" (+{more} more)" if more > 0 else ""
        parts.append(f"{result.check} on {result.business_date}: {result.summary} — {records}{tail}")
    first = results[0]
    return (
        f"Reconciliation at {location_id} differs: " + " | ".join(parts) + "; after the fix:"
        f" expediter reconcile --date {first.business_date} --location {location_id}"
    )


async def sync_alerts(alerting: Alerting, differing: Iterable[CheckResult], now: datetime) -> None:
    """Fire for every (flow, location) with a differing result; resolve the others."""
    grouped: dict[tuple[str | None, str], list[CheckResult]] = {}
    for result in differing:
        grouped.setdefault((result.flow_id or None, result.location_id), []).append(result)
    for (flow_id, location_id), results in grouped.items():
        await alerting.fire(
            AlertKind.RECONCILIATION, alert_text(location_id, results), now, flow_id, location_id
        )
    for alert in alerting.book.firing():
        if alert.kind is AlertKind.RECONCILIATION and (alert.flow_id, alert.location_id or "") not in grouped:
            await alerting.resolve(AlertKind.RECONCILIATION, now, alert.flow_id, alert.location_id)
