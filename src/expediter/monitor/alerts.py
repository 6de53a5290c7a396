"""Alert rules as data, and alerts with firing → acknowledged → resolved states, one per (rule,
flow, location, subject).

A rule says what to watch; the engine and the health evaluation call :meth:`AlertBook.fire` and
:meth:`AlertBook.resolve`. The book de-duplicates: a failure that repeats every minute is one open
alert (its ``count`` grows with each new occurrence, not with each time a watch finds the condition
still true). Its channels hear about it when it fires, again every route's ``repeat_minutes`` while
nobody acknowledges it, the second contact after ``escalate_after_minutes``, and once when it
resolves (see :mod:`expediter.monitor.routes`).

The ``subject`` names the part of a flow the alert is about when one flow has several (the kitchen
station ``grill`` of the flow to the screens); it is ``None`` for the flow as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

import msgspec


class AlertKind(StrEnum):
    """The kinds the hub fires (docs/monitoring.md lists exactly these)."""

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
    VOLUME = "volume"
    """An event flow's last hour is far from the same weekday's normal at that hour."""
    SIGNATURE_FAILURES = "signature_failures"
    """A burst of webhooks whose signature did not verify (a rotated signing key)."""
    OFFLINE = "offline"
    """A kitchen station without a connected screen, or a printer that cannot be reached."""
    MISSING_FILE = "missing_file"
    """A file a file-arrival flow expects did not arrive by its ``expected_by`` time."""
    DRILL_FAILED = "drill_failed"
    """A scheduled drill of the flow failed: its alerts may not reach anyone."""


class AlertState(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    """Someone said they are on it: no more repeats, no escalation; it still resolves by itself."""
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
    AlertRule(
        id="volume",
        kind=AlertKind.VOLUME,
        severity=Severity.WARNING,
        description="Far fewer (or far more) messages this hour than the same weekday's normal.",
    ),
    AlertRule(
        id="signature_failures",
        kind=AlertKind.SIGNATURE_FAILURES,
        description="A system's webhooks keep failing their signature check: its data is refused.",
    ),
    AlertRule(id="offline", kind=AlertKind.OFFLINE, description="A kitchen screen or printer is offline."),
    AlertRule(
        id="missing_file",
        kind=AlertKind.MISSING_FILE,
        description="An expected file did not arrive by its expected time.",
    ),
    AlertRule(
        id="drill_failed",
        kind=AlertKind.DRILL_FAILED,
        description="A scheduled drill failed: an alert of this flow may not reach anyone.",
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
    """How many separate occurrences (a scheduled run that failed again) it has seen while open;
    a watch that finds the condition still true does not add to it."""
    subject: str | None = None
    id: int | None = None
    """Its number in the hub's database (``expediter alerts ack ID``); ``None`` without one."""
    at_risk: str = ""
    """The money the hub sees at risk when it fired, in words (``$412.50 in 9 orders``)."""
    acknowledged_at: datetime | None = None
    acknowledged_by: str = ""
    notified_at: datetime | None = None
    """When its channels were last told (it fired, or repeated)."""
    escalated_at: datetime | None = None

    @property
    def key(self) -> AlertKey:
        return (self.rule_id, self.flow_id, self.location_id, self.subject)

    @property
    def is_open(self) -> bool:
        return self.state is not AlertState.RESOLVED


AlertKey = tuple[str, str | None, str | None, str | None]
"""(rule, flow, location, subject): what makes two conditions one alert."""


class AlertBook:
    """The open alerts, de-duplicated by (rule, flow, location, subject), in memory."""

    def __init__(self) -> None:
        self._open: dict[AlertKey, Alert] = {}

    def fire(
        self,
        rule: AlertRule,
        message: str,
        now: datetime,
        flow_id: str | None = None,
        location_id: str | None = None,
        *,
        subject: str | None = None,
        occurrence: bool = True,
    ) -> Alert | None:
        """Record the condition; returns the alert only when it newly fires (so channels hear it once).
        ``occurrence=False``: a watch found the condition still true (the count stays)."""
        key = (rule.id, flow_id, location_id, subject)
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
            subject=subject,
        )
        self._open[key] = alert
        return alert

    def resolve(
        self,
        rule: AlertRule,
        now: datetime,
        flow_id: str | None = None,
        location_id: str | None = None,
        subject: str | None = None,
    ) -> Alert | None:
        """Close the alert if it was open; returns it (resolved) so channels can say so."""
        alert = self._open.pop((rule.id, flow_id, location_id, subject), None)
        if alert is None:
            return None
        alert.state = AlertState.RESOLVED
        alert.resolved_at = now
        return alert

    def get(
        self,
        rule: AlertRule,
        flow_id: str | None = None,
        location_id: str | None = None,
        subject: str | None = None,
    ) -> Alert | None:
        return self._open.get((rule.id, flow_id, location_id, subject))

    def restore(self, alerts: Sequence[Alert]) -> None:
        """Open again the alerts that were open when the hub stopped (their channels heard them)."""
        for alert in alerts:
            self._open[alert.key] = alert

    def firing(self) -> list[Alert]:
        """Every open alert (firing or acknowledged), oldest first."""
        return sorted(self._open.values(), key=lambda a: a.started_at)
