"""Alert rules as data, and alerts with firing → resolved states, one per (rule, flow, location).

A rule says what to watch; the engine and the health evaluation call :meth:`AlertBook.fire` and
:meth:`AlertBook.resolve`. The book de-duplicates: a failure that repeats every minute is one firing
alert (its ``count`` grows with each new occurrence, not with each time a watch finds the condition
still true), and its channels hear about it once when it fires and once when it resolves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

import msgspec


class AlertKind(StrEnum):
    """The kinds the hub fires today (docs/monitoring.md lists exactly these)."""

    FAILURE = "failure"
    DEAD_LETTER = "dead_letter"
    LATENESS = "lateness"
    DRIFT = "drift"
    """A source sent a field that is new, missing or of another type than it sent so far."""
    RECONCILIATION = "reconciliation"
    """Two systems disagree on one location's business date (a reconciliation check differs)."""
    HELD_FOR_REVIEW = "held_for_review"
    STOPPED = "stopped"
    """A part of the running hub stopped (the scheduler, a polling fallback, a file watcher, the
    alert watch, the reconciliation watch): until the hub restarts, what it does does not happen."""


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


class AlertRule(msgspec.Struct, frozen=True, kw_only=True):
    """What to watch. ``flow_id`` ``None`` applies the rule to every flow."""

    id: str
    kind: AlertKind
    severity: Severity = Severity.CRITICAL
    flow_id: str | None = None
    description: str = ""


DEFAULT_RULES: tuple[AlertRule, ...] = (
    AlertRule(id="failure", kind=AlertKind.FAILURE, description="A transfer failed."),
    AlertRule(id="dead_letter", kind=AlertKind.DEAD_LETTER, description="A delivery exhausted its retries."),
    AlertRule(id="lateness", kind=AlertKind.LATENESS, description="A scheduled run missed its deadline."),
    AlertRule(
        id="drift",
        kind=AlertKind.DRIFT,
        severity=Severity.WARNING,
        description="A source sent a field that is new, missing or of another type than before.",
    ),
    AlertRule(
        id="reconciliation",
        kind=AlertKind.RECONCILIATION,
        description="Two systems disagree on a business day: a reconciliation check lists the records.",
    ),
    AlertRule(
        id="stopped",
        kind=AlertKind.STOPPED,
        description="A part of the hub stopped running; /healthz answers 503 until it restarts.",
    ),
    AlertRule(
        id="held_for_review",
        kind=AlertKind.HELD_FOR_REVIEW,
        severity=Severity.WARNING,
        description="A run went out but set something aside for a person (pay nobody owns).",
    ),
)


def rule_for(
    kind: AlertKind, rules: Sequence[AlertRule] = DEFAULT_RULES, flow_id: str | None = None
) -> AlertRule:
    """The most specific rule of ``kind`` (one naming ``flow_id`` beats one for every flow)."""
    matching = [r for r in rules if r.kind == kind and r.flow_id in (None, flow_id)]
    if not matching:
        raise LookupError(f"no alert rule of kind {kind}")
    return max(matching, key=lambda r: r.flow_id is not None)


class Alert(msgspec.Struct, kw_only=True):
    rule_id: str
    kind: AlertKind
    severity: Severity
    flow_id: str | None
    location_id: str | None
    message: str
    state: AlertState
    started_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None
    count: int = 1
    """How many separate occurrences (a scheduled run that failed again) it has seen while firing;
    a watch that finds the condition still true does not add to it."""

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.rule_id, self.flow_id, self.location_id)


class AlertBook:
    """The open alerts, de-duplicated by (rule, flow, location), in memory."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str | None, str | None], Alert] = {}

    def fire(
        self,
        rule: AlertRule,
        message: str,
        now: datetime,
        flow_id: str | None = None,
        location_id: str | None = None,
        *,
        occurrence: bool = True,
    ) -> Alert | None:
        """Record the condition; returns the alert only when it newly fires (so channels hear it once).
        ``occurrence=False``: a watch found the condition still true (the count stays)."""
        key = (rule.id, flow_id, location_id)
        current = self._open.get(key)
        if current is not None:
            current.count += occurrence
            current.last_seen_at = now
            current.message = message
            return None
        alert = Alert(
            rule_id=rule.id,
            kind=rule.kind,
            severity=rule.severity,
            flow_id=flow_id,
            location_id=location_id,
            message=message,
            state=AlertState.FIRING,
            started_at=now,
            last_seen_at=now,
        )
        self._open[key] = alert
        return alert

    def resolve(
        self, rule: AlertRule, now: datetime, flow_id: str | None = None, location_id: str | None = None
    ) -> Alert | None:
        """Close the alert if it was firing; returns it (resolved) so channels can say so."""
        alert = self._open.pop((rule.id, flow_id, location_id), None)
        if alert is None:
            return None
        alert.state = AlertState.RESOLVED
        alert.resolved_at = now
        return alert

    def get(
        self, rule: AlertRule, flow_id: str | None = None, location_id: str | None = None
    ) -> Alert | None:
        return self._open.get((rule.id, flow_id, location_id))

    def restore(self, alerts: Sequence[Alert]) -> None:
        """Open again the alerts that were firing when the hub stopped (their channels heard them)."""
        for alert in alerts:
            self._open[alert.key] = alert

    def firing(self) -> list[Alert]:
        return sorted(self._open.values(), key=lambda a: a.started_at)
