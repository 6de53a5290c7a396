"""Pay held for a person to assign: auto-gratuity on a check nobody owns.

An auto-gratuity is wages of whoever served the check. When the check has no employee (a banquet
rung on the manager's terminal, an online catering order) nobody can be paid it, but nobody else's
pay should wait either: the payroll run **holds** that amount here, raises an alert, and sends the
rest of the file. A person then assigns the hold to an employee (``expediter payroll assign``), and
the next payroll run of that location pays it as service-charge wages.

A hold goes ``held`` → ``assigned`` → ``paid`` (with the period that paid it, so a re-run of that
period pays it again rather than losing it). Holds live in a SQLite file
(``<hub.data_dir>/payroll-holds.db``, migration ``0201_payroll_holds``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TypeAlias

import msgspec

from expediter.catalog.paths import data_dir
from expediter.catalog.schema import Catalog
from expediter.errors import RejectedInput
from expediter.model import clock
from expediter.model.money import Money

HOLDS_FILE = "payroll-holds.db"


class HoldState(StrEnum):
    HELD = "held"
    ASSIGNED = "assigned"
    PAID = "paid"


class PayHold(msgspec.Struct, kw_only=True):
    id: str
    """``<location>:<check id>``: one hold per check, however often the period is run."""
    location_id: str
    order_id: str
    business_date: date
    amount: Money
    reason: str
    state: HoldState = HoldState.HELD
    employee_id: str = ""
    paid_in: str = ""
    """The period that paid it: ``<flow>:<start>..<end>``."""
    held_at: datetime
    updated_at: datetime


def period_key(flow_id: str, start: date, end: date) -> str:
    return f"{flow_id}:{start.isoformat()}..{end.isoformat()}"


Holds: TypeAlias = list[PayHold]

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0201_payroll_holds",
        "CREATE TABLE payroll_holds (id TEXT PRIMARY KEY, location_id TEXT NOT NULL,"
        " state TEXT NOT NULL, body BLOB NOT NULL)",
    ),
]


class SqlitePayHolds:
    """The holds in a SQLite file (WAL, synchronous FULL): a held amount survives restarts."""

    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._migrate()

    def close(self) -> None:
        self._conn.close()

    def _migrate(self) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
            for name, statement in MIGRATIONS:
                if name not in done:
                    conn.execute(statement)
                    conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, clock.now().isoformat()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _save(self, hold: PayHold) -> None:
        self._conn.execute(
            "INSERT INTO payroll_holds VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
            " SET state = excluded.state, body = excluded.body",
            (hold.id, hold.location_id, hold.state.value, msgspec.json.encode(hold)),
        )

    def get(self, hold_id: str) -> PayHold | None:
        row = self._conn.execute("SELECT body FROM payroll_holds WHERE id = ?", (hold_id,)).fetchone()
        return None if row is None else msgspec.json.decode(row[0], type=PayHold)

    def hold(self, hold: PayHold) -> PayHold:
        """Add a hold, or return the one already there for the check (its state is kept)."""
        known = self.get(hold.id)
        if known is not None:
            return known
        self._save(hold)
        return hold

    def list(self, state: HoldState | None = None, location_id: str | None = None) -> Holds:
        rows = self._conn.execute("SELECT body FROM payroll_holds ORDER BY id").fetchall()
        holds = [msgspec.json.decode(row[0], type=PayHold) for row in rows]
        return [
            h
            for h in holds
            if (state is None or h.state is state) and (location_id is None or h.location_id == location_id)
        ]

    def assign(self, hold_id: str, employee_id: str) -> PayHold:
        """Say whose the held amount is; a paid hold cannot change hands."""
        hold = self.get(hold_id)
        if hold is None:
            raise RejectedInput(
                f"no payroll hold {hold_id!r}", where=hold_id, fix="`expediter payroll held` lists them"
            )
        if hold.state is HoldState.PAID:
            raise RejectedInput(
                f"payroll hold {hold_id} was paid in {hold.paid_in}",
                where=hold_id,
                fix="correct it in the payroll system",
            )
        assigned = msgspec.structs.replace(
            hold, state=HoldState.ASSIGNED, employee_id=employee_id, updated_at=clock.now()
        )
        self._save(assigned)
        return assigned

    def payable(self, location_id: str, period: str) -> Holds:
        """Assigned holds of the location not paid yet, and those this same period paid before."""
        return [
            h
            for h in self.list(location_id=location_id)
            if h.state is HoldState.ASSIGNED or (h.state is HoldState.PAID and h.paid_in == period)
        ]

    def mark_paid(self, holds: Holds, period: str) -> None:
        for hold in holds:
            self._save(
                msgspec.structs.replace(hold, state=HoldState.PAID, paid_in=period, updated_at=clock.now())
            )


def holds_path(catalog: Catalog) -> Path:
    return data_dir(catalog) / HOLDS_FILE


@contextmanager
def open_pay_holds(catalog: Catalog) -> Iterator[SqlitePayHolds]:
    """The catalog's payroll holds, created on first use, closed afterwards."""
    path = holds_path(catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    holds = SqlitePayHolds(path)
    try:
        yield holds
    finally:
        holds.close()
