"""Every alert the hub raised, kept in its database beside the ledger: the open ones and their
history, who acknowledged them, and each time a channel was told.

Only the process that watches (the one holding the delivery lock) fires, repeats, escalates and
resolves alerts; it writes each change here. Every other reader — the dashboard, the flow pages and
``/metrics`` of any hub process, ``expediter alerts``, the watching process itself after a restart
— reads the same rows, so all of them tell the same story, and a hub that restarts does not notify
a channel twice for an alert it already sent. Acknowledging is the one change made elsewhere (the
flow page, ``expediter alerts ack``): it only sets the acknowledgement columns, which the watching
process reads back before it repeats or escalates anything.

An open alert carries its de-duplication key in ``open_key``; resolving it clears the key (a
unique column may hold any number of NULLs), so the same condition can open a new alert later.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from expediter.monitor.alerts import Alert, AlertKind, AlertState, Severity
from expediter.storage.base import Row, Tx, from_iso, to_iso

_KINDS = frozenset(kind.value for kind in AlertKind)
"""Rows of a kind this version does not fire are left alone (never read as an alert)."""
_COLUMNS = (
    "id, rule_id, kind, severity, flow_id, location_id, subject, message, state, started_at,"
    " last_seen_at, count, at_risk, acknowledged_at, acknowledged_by, notified_at, escalated_at,"
    " resolved_at"
)
_INSERT = (
    "INSERT INTO alerts (open_key, rule_id, kind, severity, flow_id, location_id, subject, message,"
    " state, started_at, last_seen_at, count, at_risk, notified_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (open_key) DO NOTHING"
)
_UPDATE = (
    "UPDATE alerts SET severity = ?, message = ?, last_seen_at = ?, count = ?, at_risk = ?,"
    " notified_at = ?, escalated_at = ? WHERE id = ?"
)


class Notification(msgspec.Struct, kw_only=True):
    """One channel told about one alert: when, for what (``firing``, ``repeat``, ...), and the
    error when it could not be sent (empty: sent)."""

    alert_id: int
    channel: str
    event: str
    sent_at: datetime
    error: str = ""


def open_key(alert: Alert) -> str:
    return "|".join((alert.rule_id, alert.flow_id or "", alert.location_id or "", alert.subject or ""))


def insert_alert(tx: Tx, alert: Alert) -> int:
    """Write a newly fired alert; its id (the open one's, should the same key be open already)."""
    new_id = tx.insert(
        _INSERT,
        (
            open_key(alert),
            alert.rule_id,
            str(alert.kind),
            str(alert.severity),
            alert.flow_id or "",
            alert.location_id or "",
            alert.subject or "",
            alert.message,
            str(alert.state),
            to_iso(alert.started_at),
            to_iso(alert.last_seen_at),
            alert.count,
            alert.at_risk,
            _iso(alert.notified_at),
        ),
    )
    if new_id is not None:
        return new_id
    row = tx.one("SELECT id FROM alerts WHERE open_key = ?", (open_key(alert),))
    assert row is not None
    return int(row["id"])


def update_alert(tx: Tx, alert: Alert) -> None:
    """An open alert's new message, count, money at risk, or notification times (never its
    acknowledgement, which only :func:`acknowledge` writes)."""
    tx.execute(
        _UPDATE,
        (
            str(alert.severity),
            alert.message,
            to_iso(alert.last_seen_at),
            alert.count,
            alert.at_risk,
            _iso(alert.notified_at),
            _iso(alert.escalated_at),
            alert.id,
        ),
    )


def close_alert(tx: Tx, alert: Alert) -> None:
    """The alert resolved: it stays in the history, no longer open."""
    tx.execute(
        "UPDATE alerts SET state = ?, resolved_at = ?, last_seen_at = ?, open_key = NULL WHERE id = ?",
        (str(AlertState.RESOLVED), _iso(alert.resolved_at), to_iso(alert.last_seen_at), alert.id),
    )


def acknowledge(tx: Tx, alert_id: int, who: str, now: datetime) -> Alert | None:
    """Mark a firing alert acknowledged by ``who``; returns the alert as it now stands (``None``:
    no such alert). One already acknowledged or resolved is returned unchanged."""
    tx.execute(
        "UPDATE alerts SET state = ?, acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND state = ?",
        (str(AlertState.ACKNOWLEDGED), to_iso(now), who, alert_id, str(AlertState.FIRING)),
    )
    return alert_by_id(tx, alert_id)


def alert_by_id(tx: Tx, alert_id: int) -> Alert | None:
    row = tx.one(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,))
    return _alert_from_row(row) if row is not None and row["kind"] in _KINDS else None


def open_alerts(tx: Tx) -> list[Alert]:
    """Every open alert (firing or acknowledged), oldest first."""
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM alerts WHERE open_key IS NOT NULL ORDER BY started_at, rule_id, flow_id"
    )
    return [_alert_from_row(row) for row in rows if row["kind"] in _KINDS]


def alert_history(tx: Tx, flow_id: str | None = None, limit: int = 100) -> list[Alert]:
    """Alerts open and resolved, newest first; of one flow when ``flow_id`` is given."""
    where, params = (" WHERE flow_id = ?", [flow_id]) if flow_id is not None else ("", [])
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM alerts{where} ORDER BY started_at DESC, id DESC LIMIT ?", [*params, limit]
    )
    return [_alert_from_row(row) for row in rows if row["kind"] in _KINDS]


def record_notification(tx: Tx, notification: Notification) -> None:
    tx.execute(
        "INSERT INTO alert_notifications (alert_id, channel, event, sent_at, error) VALUES (?, ?, ?, ?, ?)",
        (
            notification.alert_id,
            notification.channel,
            notification.event,
            to_iso(notification.sent_at),
            notification.error[:2000],
        ),
    )


def record_notifications(tx: Tx, found: list[Notification]) -> None:
    for notification in found:
        record_notification(tx, notification)


def notifications(tx: Tx, alert_ids: list[int]) -> list[Notification]:
    """What the channels were told about these alerts, oldest first."""
    if not alert_ids:
        return []
    marks = ", ".join("?" for _ in alert_ids)
    rows = tx.all(
        "SELECT alert_id, channel, event, sent_at, error FROM alert_notifications"
        f" WHERE alert_id IN ({marks}) ORDER BY id",
        alert_ids,
    )
    return [
        Notification(
            alert_id=int(row["alert_id"]),
            channel=row["channel"],
            event=row["event"],
            sent_at=from_iso(row["sent_at"]),
            error=row["error"],
        )
        for row in rows
    ]


def _iso(ts: datetime | None) -> str | None:
    return to_iso(ts) if ts is not None else None


def _when(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


def _alert_from_row(row: Row) -> Alert:
    return Alert(
        id=int(row["id"]),
        rule_id=row["rule_id"],
        kind=AlertKind(row["kind"]),
        severity=Severity(row["severity"]),
        flow_id=row["flow_id"] or None,
        location_id=row["location_id"] or None,
        subject=row["subject"] or None,
        message=row["message"],
        state=AlertState(row["state"]),
        started_at=from_iso(row["started_at"]),
        last_seen_at=from_iso(row["last_seen_at"]),
        count=int(row["count"]),
        at_risk=row["at_risk"],
        acknowledged_at=_when(row["acknowledged_at"]),
        acknowledged_by=row["acknowledged_by"],
        notified_at=_when(row["notified_at"]),
        escalated_at=_when(row["escalated_at"]),
        resolved_at=_when(row["resolved_at"]),
    )
