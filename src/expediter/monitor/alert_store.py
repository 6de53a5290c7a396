"""The firing alerts, kept in the hub's database beside the ledger.

Only the process that watches (the one holding the delivery lock) fires and resolves alerts; it
writes each change here. Every other reader — the dashboard and ``/metrics`` of any hub process,
the watching process itself after a restart — reads the same rows, so all of them tell the same
story, and a hub that restarts does not notify a channel twice for an alert it already sent.
"""

from __future__ import annotations

from expediter.engine.storage.base import Row, Tx, from_iso, to_iso
from expediter.monitor.alerts import Alert, AlertKind, AlertState, Severity

_KINDS = frozenset(kind.value for kind in AlertKind)
"""Rows of a kind this version does not fire are left alone (never read as an alert)."""
_COLUMNS = "rule_id, flow_id, location_id, kind, severity, message, started_at, last_seen_at, count"
_UPSERT = (
    f"INSERT INTO alerts_open ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (rule_id, flow_id, location_id) DO UPDATE SET kind = excluded.kind,"
    " severity = excluded.severity, message = excluded.message, last_seen_at = excluded.last_seen_at,"
    " count = excluded.count"
)


def save_alert(tx: Tx, alert: Alert) -> None:
    """Write a firing alert (new, or with a new message or count)."""
    tx.execute(
        _UPSERT,
        (
            alert.rule_id,
            alert.flow_id or "",
            alert.location_id or "",
            str(alert.kind),
            str(alert.severity),
            alert.message,
            to_iso(alert.started_at),
            to_iso(alert.last_seen_at),
            alert.count,
        ),
    )


def drop_alert(tx: Tx, alert: Alert) -> None:
    """The alert resolved: it is no longer open."""
    tx.execute(
        "DELETE FROM alerts_open WHERE rule_id = ? AND flow_id = ? AND location_id = ?",
        (alert.rule_id, alert.flow_id or "", alert.location_id or ""),
    )


def open_alerts(tx: Tx) -> list[Alert]:
    """Every firing alert, oldest first."""
    rows = tx.all(f"SELECT {_COLUMNS} FROM alerts_open ORDER BY started_at, rule_id, flow_id")
    return [_alert_from_row(row) for row in rows if row["kind"] in _KINDS]


def _alert_from_row(row: Row) -> Alert:
    return Alert(
        rule_id=row["rule_id"],
        kind=AlertKind(row["kind"]),
        severity=Severity(row["severity"]),
        flow_id=row["flow_id"] or None,
        location_id=row["location_id"] or None,
        message=row["message"],
        state=AlertState.FIRING,
        started_at=from_iso(row["started_at"]),
        last_seen_at=from_iso(row["last_seen_at"]),
        count=int(row["count"]),
    )
