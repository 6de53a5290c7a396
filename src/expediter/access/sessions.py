"""Sign-in sessions, kept server-side: the browser holds a random id in a cookie, the ``sessions``
table (owned here) holds its sha256, the user, a CSRF token for the session's forms, and when it
was last used. A session ends at sign-out, after :data:`IDLE` without use, :data:`LONGEST` after
sign-in, at a password reset, or when its user is removed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from expediter.access.credentials import digest, new_secret
from expediter.access.users import User, Users
from expediter.storage.base import Storage, Tx, from_iso, to_iso, utcnow

IDLE = timedelta(hours=12)
LONGEST = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=1)
"""How stale ``seen_at`` may get before a request writes it again (one write a minute, not one
a request)."""


class Session(msgspec.Struct, kw_only=True, frozen=True):
    user: User
    csrf: str
    created_at: datetime
    seen_at: datetime
    id_hash: str


class Sessions:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.users = Users(storage)

    async def start(self, user: User, address: str) -> str:
        """A new session for ``user``; returns the cookie's value (never stored as such)."""
        secret, now = new_secret(), utcnow()
        cutoff = to_iso(now - LONGEST)

        def insert(tx: Tx) -> None:
            tx.execute("DELETE FROM sessions WHERE created_at < ?", (cutoff,))  # the long-expired
            tx.execute(
                "INSERT INTO sessions (id_hash, user_id, csrf, created_at, seen_at, address)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (digest(secret), user.id, new_secret(), to_iso(now), to_iso(now), address[:100]),
            )

        await self.storage.write(insert)
        return secret

    async def find(self, secret: str) -> Session | None:
        """The live session behind a cookie's value, or ``None`` (unknown, ended or expired)."""
        if not secret:
            return None
        id_hash = digest(secret)
        row = await self.storage.read(
            lambda tx: tx.one(
                "SELECT user_id, csrf, created_at, seen_at FROM sessions WHERE id_hash = ?", (id_hash,)
            )
        )
        if row is None:
            return None
        now = utcnow()
        created, seen = from_iso(row["created_at"]), from_iso(row["seen_at"])
        if now - seen > IDLE or now - created > LONGEST:
            await self.end(secret)
            return None
        user = await self.users.by_id(int(row["user_id"]))
        if user is None:
            return None
        if now - seen > TOUCH_EVERY:
            await self._touch(id_hash, now)
        return Session(user=user, csrf=row["csrf"], created_at=created, seen_at=seen, id_hash=id_hash)

    async def _touch(self, id_hash: str, now: datetime) -> None:
        await self.storage.write(
            lambda tx: tx.execute("UPDATE sessions SET seen_at = ? WHERE id_hash = ?", (to_iso(now), id_hash))
        )

    async def end(self, secret: str) -> None:
        id_hash = digest(secret)
        await self.storage.write(lambda tx: tx.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,)))
