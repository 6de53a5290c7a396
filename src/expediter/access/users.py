"""The people who sign in: a name, a role, the locations they may see, an argon2 password hash.

The ``users`` table belongs to this module. A user's ``locations`` empty means every location (a
group's systems manager); otherwise they see and act on those locations only.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import msgspec

from expediter.access.passwords import hash_password, needs_rehash, verify_password
from expediter.access.roles import Role
from expediter.errors import RejectedInput
from expediter.storage.base import Row, Storage, Tx, from_iso, now_iso

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_COLUMNS = "id, name, role, locations, password_hash, created_at, password_changed_at"


class User(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    name: str
    role: Role
    locations: tuple[str, ...] = ()
    """Empty: every location."""
    created_at: datetime
    password_changed_at: datetime

    def sees(self, location_id: str | None) -> bool:
        """Whether this user may see (and, with the role, act on) ``location_id``; something that
        belongs to no one location is for those who see every location."""
        if not self.locations:
            return True
        return location_id is not None and location_id in self.locations


class UserListing(msgspec.Struct, kw_only=True):
    """What ``expediter users list --json`` prints (never the hash)."""

    name: str
    role: Role
    locations: list[str]
    all_locations: bool
    created_at: datetime
    password_changed_at: datetime


def listing(user: User) -> UserListing:
    return UserListing(
        name=user.name,
        role=user.role,
        locations=list(user.locations),
        all_locations=not user.locations,
        created_at=user.created_at,
        password_changed_at=user.password_changed_at,
    )


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise RejectedInput(
            f"{name!r} is not a user name",
            where="name",
            fix="use letters, digits and . _ @ - (up to 64, starting with a letter or digit)",
        )
    return name


def _user(row: Row) -> User:
    return User(
        id=int(row["id"]),
        name=row["name"],
        role=Role(row["role"]),
        locations=tuple(msgspec.json.decode(row["locations"], type=list[str])),
        created_at=from_iso(row["created_at"]),
        password_changed_at=from_iso(row["password_changed_at"]),
    )


class Users:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def add(self, name: str, role: Role, locations: list[str], password: str) -> User:
        """A new user; ``RejectedInput`` when the name is taken or the password too short."""
        check_name(name)
        hashed = await asyncio.to_thread(hash_password, password)
        now = now_iso()

        def insert(tx: Tx) -> int | None:
            return tx.insert(
                "INSERT INTO users (name, role, locations, password_hash, created_at, password_changed_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                (name, role.value, msgspec.json.encode(sorted(locations)).decode(), hashed, now, now),
            )

        if await self.storage.write(insert) is None:
            raise RejectedInput(
                f"there is already a user {name!r}",
                where="name",
                fix="choose another name, or `expediter users reset-password` for that user",
            )
        found = await self.get(name)
        assert found is not None
        return found

    async def get(self, name: str) -> User | None:
        row = await self.storage.read(
            lambda tx: tx.one(f"SELECT {_COLUMNS} FROM users WHERE name = ?", (name,))
        )
        return _user(row) if row else None

    async def by_id(self, user_id: int) -> User | None:
        row = await self.storage.read(
            lambda tx: tx.one(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        )
        return _user(row) if row else None

    async def all(self) -> list[User]:
        rows = await self.storage.read(lambda tx: tx.all(f"SELECT {_COLUMNS} FROM users ORDER BY name"))
        return [_user(row) for row in rows]

    async def count(self) -> int:
        row = await self.storage.read(lambda tx: tx.one("SELECT COUNT(*) FROM users"))
        return int(row[0]) if row else 0

    async def authenticate(self, name: str, password: str) -> User | None:
        """The user whose name and password these are, else ``None`` (as slow either way). A hash
        made with older settings is replaced by one with today's."""
        row = await self.storage.read(
            lambda tx: tx.one(f"SELECT {_COLUMNS} FROM users WHERE name = ?", (name,))
        )
        stored = row["password_hash"] if row else None
        matches = await asyncio.to_thread(verify_password, stored, password)  # ~50 ms of CPU
        if not matches or row is None or stored is None:
            return None
        if needs_rehash(stored):
            rehashed = await asyncio.to_thread(hash_password, password)
            await self._store_hash(int(row["id"]), rehashed, keep_sessions=True)
        return _user(row)

    async def set_password(self, name: str, password: str) -> User:
        """A new password; every session of the user ends (signed out everywhere)."""
        user = await self._existing(name)
        hashed = await asyncio.to_thread(hash_password, password)
        await self._store_hash(user.id, hashed, keep_sessions=False)
        return user

    async def _store_hash(self, user_id: int, hashed: str, *, keep_sessions: bool) -> None:
        def update(tx: Tx) -> None:
            tx.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                (hashed, now_iso(), user_id),
            )
            if not keep_sessions:
                tx.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

        await self.storage.write(update)

    async def remove(self, name: str) -> User:
        """Remove the user and end their sessions (the audit log keeps what they did)."""
        user = await self._existing(name)

        def delete(tx: Tx) -> None:
            tx.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
            tx.execute("DELETE FROM users WHERE id = ?", (user.id,))

        await self.storage.write(delete)
        return user

    async def _existing(self, name: str) -> User:
        user = await self.get(name)
        if user is None:
            raise RejectedInput(
                f"there is no user {name!r}", where="name", fix="see `expediter users list` for the names"
            )
        return user
