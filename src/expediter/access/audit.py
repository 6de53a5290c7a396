"""The audit log: every action a person, a kitchen device or a command took on the hub, with who,
when, what, from where, and how it ended. The ``audit_log`` table belongs to this module; rows are
only ever added.
"""

from __future__ import annotations

import getpass
from datetime import datetime
from enum import StrEnum

import msgspec

from expediter.storage.base import Row, Storage, Tx, from_iso, to_iso, utcnow

_COLUMNS = "id, at, actor, actor_kind, action, target, detail, outcome, address, location_id"
SHOWN = 500


class ActorKind(StrEnum):
    USER = "user"
    """A person signed in to the dashboard."""
    DEVICE = "device"
    """A paired kitchen screen."""
    COMMAND = "command"
    """Someone at the hub's own machine, with the ``expediter`` command."""
    ANONYMOUS = "anonymous"
    """Nobody known: a failed sign-in, a screen asking for a code."""


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    REPLAY = "replay"
    RUN = "run"
    RELEASE = "release"
    EIGHTY_SIX = "86"
    BUMP = "bump"
    RECALL = "recall"
    START = "start"
    FIRE = "fire"
    RESOLVE_INVOICE = "resolve_invoice"
    ACKNOWLEDGE = "acknowledge"
    """An alert acknowledged (no more reminders or escalation)."""
    DRILL = "drill"
    """A flow broken on purpose to check that its alert fires, reaches its channels and resolves."""
    RECONCILE = "reconcile"
    USER_ADDED = "user_added"
    USER_REMOVED = "user_removed"
    PASSWORD_RESET = "password_reset"
    TOKEN_CREATED = "token_created"
    PAIRING_REQUESTED = "pairing_requested"
    DEVICE_PAIRED = "device_paired"
    DEVICE_REVOKED = "device_revoked"
    OTHER = "other"
    """A change made through a page or call without a name of its own here (the target says which)."""


class Outcome(StrEnum):
    DONE = "done"
    REFUSED = "refused"
    """Not allowed: the role, the location, a missing CSRF token."""
    FAILED = "failed"
    """Allowed, and it did not work (bad input, an error)."""


class AuditEntry(msgspec.Struct, kw_only=True):
    at: datetime
    actor: str
    actor_kind: ActorKind
    action: AuditAction
    outcome: Outcome
    target: str = ""
    detail: str = ""
    address: str = ""
    location_id: str | None = None
    id: int = 0


def _entry(row: Row) -> AuditEntry:
    return AuditEntry(
        id=int(row["id"]),
        at=from_iso(row["at"]),
        actor=row["actor"],
        actor_kind=ActorKind(row["actor_kind"]),
        action=AuditAction(row["action"]),
        target=row["target"],
        detail=row["detail"],
        outcome=Outcome(row["outcome"]),
        address=row["address"],
        location_id=row["location_id"],
    )


def command_actor() -> str:
    """How the log names someone at the hub's machine: ``command:<their user name>``."""
    return f"command:{getpass.getuser()}"


class AuditLog:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def record_command(
        self, action: AuditAction, target: str, detail: str = "", location_id: str | None = None
    ) -> None:
        """An action taken with the ``expediter`` command."""
        await self.record(
            command_actor(), ActorKind.COMMAND, action, target=target, detail=detail, location_id=location_id
        )

    async def record(
        self,
        actor: str,
        actor_kind: ActorKind,
        action: AuditAction,
        outcome: Outcome = Outcome.DONE,
        *,
        target: str = "",
        detail: str = "",
        address: str = "",
        location_id: str | None = None,
    ) -> None:
        """Add one entry, durably (returns once committed)."""
        values = (
            to_iso(utcnow()),
            actor[:100],
            actor_kind.value,
            action.value,
            target[:300],
            detail[:1000],
            outcome.value,
            address[:100],
            location_id,
        )

        def insert(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO audit_log (at, actor, actor_kind, action, target, detail, outcome, address,"
                " location_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )

        await self.storage.write(insert)

    async def entries(
        self, *, since: datetime | None = None, actor: str | None = None, limit: int = SHOWN
    ) -> list[AuditEntry]:
        """Newest first."""
        where, params = [], []
        if since is not None:
            where.append("at >= ?")
            params.append(to_iso(since))
        if actor is not None:
            where.append("actor = ?")
            params.append(actor)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT {_COLUMNS} FROM audit_log{clause} ORDER BY at DESC, id DESC LIMIT ?"
        rows = await self.storage.read(lambda tx: tx.all(sql, [*params, limit]))
        return [_entry(row) for row in rows]

    async def count(self, actor: str, action: AuditAction, since: datetime) -> int:
        """How many times ``actor`` did ``action`` since then (failed sign-ins, for the lock-out)."""
        sql = "SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action = ? AND at >= ?"
        row = await self.storage.read(lambda tx: tx.one(sql, (actor, action.value, to_iso(since))))
        return int(row[0]) if row else 0
