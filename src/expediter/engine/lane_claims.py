"""Lane claims: several hub processes on one PostgreSQL database deliver side by side, each lane
delivered by one process at a time.

A process delivers a lane only while it holds that lane's lease, a row of ``lane_leases`` (lane,
owner, ``lease_until`` in the database server's milliseconds). Claiming is one short transaction::

    SELECT lane FROM lane_leases WHERE lane IN (...) AND (owner = me OR lease_until < now)
        FOR UPDATE SKIP LOCKED

so processes claiming at the same moment never wait for one another (a row another process is
claiming is skipped, not waited for), and whoever commits first owns the lane. The owner renews
its leases every third of the lease; a lane whose renewal finds another owner is given up at once.
A process that dies (``kill -9`` included) stops renewing: its lanes are free once the lease has
run out, and their deliveries (the one in flight too) are resumed by another process under the
same delivery key. A lane is released, after its outcomes are committed, when it has no more work.

Time is the database server's (``clock_timestamp()``), never a hub process's: every process
compares leases on one clock, and a test clock in a process does not move them.

SQLite keeps its single delivery worker (one process writes), so none of this runs there.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

from expediter.storage.base import Storage, Tx

DEFAULT_LEASE_SECONDS = 10.0
_NOW_MS = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"


class LaneClaims:
    """The leases one process holds (``owner`` names the process in ``lane_leases``)."""

    def __init__(
        self, storage: Storage, *, owner: str = "", lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> None:
        self.storage = storage
        self.owner = owner or uuid.uuid4().hex
        self.lease_ms = int(lease_seconds * 1000)
        self.held: set[str] = set()
        self._claiming: set[asyncio.Future[set[str]]] = set()
        self._turn = asyncio.Lock()
        """One claim, renewal or release at a time: a renewal never counts as lost a lane this
        process released and took again while the renewal was being committed."""

    @property
    def renew_every(self) -> float:
        return self.lease_ms / 3000

    async def claim(self, lane: str) -> bool:
        """Take ``lane`` unless another living process holds it; ``True`` when this one holds it."""
        async with self._turn:
            write = asyncio.ensure_future(
                self.storage.write(lambda tx: _claim(tx, [lane], self.owner, self.lease_ms))
            )
            # a lane stopped mid-claim (the hub stops) still knows what it took, to give it back
            write.add_done_callback(self._note_claimed)
            self._claiming.add(write)
            got = await asyncio.shield(write)
            return lane in got

    def _note_claimed(self, write: asyncio.Future[set[str]]) -> None:
        self._claiming.discard(write)
        if not write.cancelled() and write.exception() is None:
            self.held.update(write.result())

    async def renew(self) -> set[str]:
        """Extend every lease held; the lanes lost meanwhile (another process took them)."""
        async with self._turn:
            lanes = sorted(self.held)
            if not lanes:
                return set()
            kept = await self.storage.write(lambda tx: _renew(tx, lanes, self.owner, self.lease_ms))
            lost = set(lanes) - kept
            self.held -= lost
            return lost

    async def release_all(self) -> None:
        """Give every lane back (the hub stops), claims still being committed included."""
        if self._claiming:
            await asyncio.wait(list(self._claiming))
        await self.release(list(self.held))

    async def release(self, lanes: Iterable[str]) -> None:
        async with self._turn:
            freed = [lane for lane in lanes if lane in self.held]
            if freed:
                await self.storage.write(lambda tx: _release(tx, freed, self.owner))
                self.held.difference_update(freed)


def _marks(values: list[str]) -> str:
    return ", ".join("?" for _ in values)


def _claim(tx: Tx, lanes: list[str], owner: str, lease_ms: int) -> set[str]:
    for lane in lanes:
        tx.execute("INSERT INTO lane_leases (lane) VALUES (?) ON CONFLICT (lane) DO NOTHING", (lane,))
    free = tx.all(
        f"SELECT lane FROM lane_leases WHERE lane IN ({_marks(lanes)})"
        f" AND (owner = ? OR lease_until < {_NOW_MS}) FOR UPDATE SKIP LOCKED",
        (*lanes, owner),
    )
    got = [row[0] for row in free]
    if got:
        tx.execute(
            f"UPDATE lane_leases SET owner = ?, lease_until = {_NOW_MS} + ? WHERE lane IN ({_marks(got)})",
            (owner, lease_ms, *got),
        )
    return set(got)


def _renew(tx: Tx, lanes: list[str], owner: str, lease_ms: int) -> set[str]:
    rows = tx.all(
        f"UPDATE lane_leases SET lease_until = {_NOW_MS} + ? WHERE owner = ? AND lane IN ({_marks(lanes)})"
        " RETURNING lane",
        (lease_ms, owner, *lanes),
    )
    return {row[0] for row in rows}


def _release(tx: Tx, lanes: list[str], owner: str) -> None:
    tx.execute(
        f"UPDATE lane_leases SET owner = '', lease_until = 0 WHERE owner = ? AND lane IN ({_marks(lanes)})",
        (owner, *lanes),
    )
