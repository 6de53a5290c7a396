"""Pay held for a person to assign: auto-gratuity on a check nobody owns.

An auto-gratuity is wages of whoever served the check. When the check has no employee (a banquet
rung on the manager's terminal, an online catering order) nobody can be paid it, but nobody else's
pay should wait either: the payroll run **holds** that amount here, raises an alert, and sends the
rest of the file. A person then assigns the hold to an employee (``expediter payroll assign``), and
the next payroll run of that location pays it as service-charge wages.

A hold goes ``held`` → ``assigned`` → ``paid`` (with the period that paid it, so a re-run of that
period pays it again rather than losing it). Holds live in the hub's database (``payroll_holds``,
migration ``0023_payroll_holds``), through the storage seam; older versions kept them in
``<hub.data_dir>/payroll-holds.db``, which is copied in once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeAlias

import msgspec

from expediter.catalog.paths import data_dir
from expediter.catalog.schema import Catalog
from expediter.catalog.secrets import resolve_database
from expediter.errors import RejectedInput
from expediter.model import clock
from expediter.model.money import Money
from expediter.storage.base import Storage
from expediter.storage.blocking import BlockingStorage, blocking_storage
from expediter.storage.side_files import SideFile, SideTable, import_side_file

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

HOLDS_SIDE_FILE = SideFile(HOLDS_FILE, (SideTable("payroll_holds", ["id", "location_id", "state", "body"]),))
"""The SQLite file older versions kept the holds in, copied into the database once."""
UPSERT_HOLD = """INSERT INTO payroll_holds (id, location_id, state, body) VALUES (?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body"""


def _hold(row: Any) -> PayHold:
    return msgspec.json.decode(bytes(row["body"]), type=PayHold)


class StoredPayHolds:
    """The holds in the hub's database: a held amount survives restarts. Called from code that
    cannot await (the payroll exporter runs on a worker thread), through :class:`BlockingStorage`."""

    def __init__(self, storage: BlockingStorage) -> None:
        self.storage = storage

    def _save(self, hold: PayHold) -> None:
        params = (hold.id, hold.location_id, hold.state.value, msgspec.json.encode(hold))
        self.storage.write(lambda tx: tx.execute(UPSERT_HOLD, params))

    def get(self, hold_id: str) -> PayHold | None:
        row = self.storage.read(lambda tx: tx.one("SELECT body FROM payroll_holds WHERE id = ?", (hold_id,)))
        return None if row is None else _hold(row)

    def hold(self, hold: PayHold) -> PayHold:
        """Add a hold, or return the one already there for the check (its state is kept)."""
        known = self.get(hold.id)
        if known is not None:
            return known
        self._save(hold)
        return hold

    def list(self, state: HoldState | None = None, location_id: str | None = None) -> Holds:
        rows = self.storage.read(lambda tx: tx.all("SELECT body FROM payroll_holds ORDER BY id"))
        holds = [_hold(row) for row in rows]
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
    """Where older versions kept the holds in a file of their own (copied into the database once)."""
    return data_dir(catalog) / HOLDS_FILE


@contextmanager
def open_pay_holds(catalog: Catalog, storage: BlockingStorage | None = None) -> Iterator[StoredPayHolds]:
    """The payroll holds in the hub's database: through ``storage`` (the running hub's, which the
    engine hands an exporter), else the catalog's ``hub.database`` opened for the while."""
    if storage is not None:
        yield StoredPayHolds(storage)
        return

    async def bring_in_old_file(opened: Storage) -> None:
        await import_side_file(opened, data_dir(catalog), HOLDS_SIDE_FILE)

    with blocking_storage(resolve_database(catalog.hub.database), bring_in_old_file) as opened:
        yield StoredPayHolds(opened)
