"""The ledger: record transfers, find them again, and summarize each flow's recent history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import msgspec

from expediter.ledger.lineage import (
    Link,
    LinkRole,
    LinkRow,
    TransferInputs,
    inputs_of_transfer,
    insert_inputs,
    insert_links,
    links_of_messages,
    messages_of_transfer,
)
from expediter.ledger.transfers import (
    FAILURES,
    Direction,
    Transfer,
    TransferOutcome,
    insert_transfer,
    outcomes_asked,
)
from expediter.storage.base import Row, Storage, Tx, from_iso, to_iso

_COLUMNS = (
    "id, flow_id, direction, level, transport, endpoint, remote_ref, file_name, started_at,"
    " finished_at, records, bytes, checksum, outcome, error, location_id, business_date,"
    " delivery_id, message_id"
)


_WATCH = "INSERT INTO flows_watched (flow_id, since) VALUES (?, ?) ON CONFLICT (flow_id) DO NOTHING"


class FlowSummary(msgspec.Struct, kw_only=True):
    """What the dashboard shows per flow: when data last moved, when it last worked, how often."""

    flow_id: str
    last_transfer_at: datetime | None
    last_success_at: datetime | None
    last_outcome: TransferOutcome | None
    counts: dict[str, int]
    """Transfers by outcome."""


def transfer_from_row(row: Row) -> Transfer:
    return Transfer(
        id=row["id"],
        flow_id=row["flow_id"],
        direction=Direction(row["direction"]),
        level=row["level"],
        transport=row["transport"],
        endpoint=row["endpoint"],
        remote_ref=row["remote_ref"],
        file_name=row["file_name"],
        started_at=from_iso(row["started_at"]),
        finished_at=from_iso(row["finished_at"]),
        records=row["records"],
        bytes=row["bytes"],
        checksum=row["checksum"],
        outcome=TransferOutcome(row["outcome"]),
        error=row["error"],
        location_id=row["location_id"],
        business_date=date.fromisoformat(row["business_date"]) if row["business_date"] else None,
        delivery_id=row["delivery_id"],
        message_id=row["message_id"],
    )


class TransferWatcher(Protocol):
    """Told of each transfer recorded: in its transaction, then once it committed (a restaurant
    edge publishes them to its group, :mod:`expediter.edge.transfers`)."""

    def recording(self, tx: Tx, transfer_id: int, transfer: Transfer) -> None: ...

    def recorded(self) -> None: ...


class Ledger:
    """The public way to write and read transfers: ``await hub.ledger.record(Transfer(...))``."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.watcher: TransferWatcher | None = None

    async def record(
        self, transfer: Transfer, links: Iterable[Link] = (), inputs: TransferInputs | None = None
    ) -> int:
        """Durably record one transfer with the messages it carried (its lineage) and, for a file,
        the digest of its inputs, in one transaction; returns its id once committed."""
        carried = list(links)

        def write(tx: Tx) -> int:
            transfer_id = self.insert(tx, transfer, carried)
            if inputs is not None:
                insert_inputs(tx, transfer_id, inputs)
            return transfer_id

        transfer_id = await self.storage.write(write)
        self.committed()
        return transfer_id

    def insert(self, tx: Tx, transfer: Transfer, links: Iterable[Link] = ()) -> int:
        """In the caller's transaction: one transfer and its lineage (call :meth:`committed` after
        the commit)."""
        transfer_id = insert_transfer(tx, transfer)
        insert_links(tx, transfer_id, list(links))
        if self.watcher is not None:
            self.watcher.recording(tx, transfer_id, transfer)
        return transfer_id

    def committed(self) -> None:
        if self.watcher is not None:
            self.watcher.recorded()

    async def get(self, transfer_ids: Sequence[int]) -> list[Transfer]:
        """The transfers with these ids (a primary-key lookup each), in id order."""
        sql = f"SELECT {_COLUMNS} FROM transfers WHERE id = ?"

        def query(tx: Tx) -> list[Transfer]:
            rows = [tx.one(sql, (transfer_id,)) for transfer_id in sorted(set(transfer_ids))]
            return [transfer_from_row(row) for row in rows if row is not None]

        return await self.storage.read(query)

    async def links_of(self, message_ids: Sequence[int]) -> list[LinkRow]:
        """Every transfer that carried, produced or polled these messages (lineage)."""
        return await self.storage.read(lambda tx: links_of_messages(tx, message_ids))

    async def carried_by(self, transfer_id: int, roles: Sequence[LinkRole] = ()) -> list[int]:
        """The message ids a transfer carried (or, with ``roles``, polled, produced...)."""
        return await self.storage.read(lambda tx: messages_of_transfer(tx, transfer_id, roles))

    async def inputs(self, transfer_id: int) -> TransferInputs | None:
        """The digest of what a file transfer was built from (``None`` before lineage was kept)."""
        return await self.storage.read(lambda tx: inputs_of_transfer(tx, transfer_id))

    async def first_business_date(self, flow_id: str, location_id: str) -> date | None:
        """The earliest business date the flow has a transfer for at the location (it ran since)."""
        sql = "SELECT MIN(business_date) FROM transfers WHERE flow_id = ? AND location_id = ?"

        def query(tx: Tx) -> date | None:
            row = tx.one(sql, (flow_id, location_id))
            return date.fromisoformat(row[0]) if row and row[0] else None

        return await self.storage.read(query)

    async def last_files_sent(self) -> list[tuple[str, str, date]]:
        """Per flow and location, the latest business date a file went out for successfully."""

        def query(tx: Tx) -> list[Row]:
            return tx.all(
                "SELECT flow_id, location_id, MAX(business_date) AS day FROM transfers"
                " WHERE level = ? AND direction = ? AND outcome = ? AND location_id IS NOT NULL"
                " AND business_date IS NOT NULL GROUP BY flow_id, location_id",
                ("file", "out", "succeeded"),
            )

        rows = await self.storage.read(query)
        return [(row["flow_id"], row["location_id"], date.fromisoformat(row["day"])) for row in rows]

    async def day_transfers(
        self,
        flow_id: str,
        location_id: str,
        start: date,
        end: date,
        outcome: TransferOutcome | None = None,
    ) -> list[Transfer]:
        """A flow's transfers at a location for business dates in [start, end], oldest first
        (the flow's index narrows the read to that flow)."""
        sql = (
            f"SELECT {_COLUMNS} FROM transfers WHERE flow_id = ? AND location_id = ?"
            " AND business_date >= ? AND business_date <= ?"
        )
        params: list[Any] = [flow_id, location_id, start.isoformat(), end.isoformat()]
        if outcome is not None:
            sql += " AND outcome = ?"
            params.append(str(outcome))
        sql += " ORDER BY started_at, id"

        def query(tx: Tx) -> list[Transfer]:
            return [transfer_from_row(row) for row in tx.all(sql, params)]

        return await self.storage.read(query)

    async def transfers(
        self,
        *,
        flow_id: str | None = None,
        outcome: TransferOutcome | None = None,
        since: datetime | None = None,
        location_id: str | None = None,
        delivery_id: int | None = None,
        until: datetime | None = None,
        text: str | None = None,
        limit: int = 100,
    ) -> list[Transfer]:
        """Newest first, filtered by whichever arguments are given. ``outcome`` ``failed`` finds
        every failure: ``failed``, ``retrying`` and ``dead`` (see :func:`outcomes_asked`).
        ``since`` ≤ start < ``until``; ``text`` is found, whatever its case, in the error, the file
        name, the endpoint, the remote reference or the checksum."""
        where, params = _filters(flow_id, outcome, since, location_id, delivery_id)
        where, params = _more_filters(where, params, until, text)
        sql = f"SELECT {_COLUMNS} FROM transfers{where} ORDER BY started_at DESC, id DESC LIMIT ?"

        def query(tx: Tx) -> list[Transfer]:
            return [transfer_from_row(row) for row in tx.all(sql, [*params, limit])]

        return await self.storage.read(query)

    async def failures_since(self, since: datetime) -> dict[str, int]:
        """Per flow, how many transfers failed (failed, retrying, dead) since ``since``: counted in
        SQL, so the dashboard never loads a day of transfers to count them."""

        def query(tx: Tx) -> dict[str, int]:
            marks = ", ".join("?" for _ in FAILURES)
            rows = tx.all(
                "SELECT flow_id, COUNT(*) AS n FROM transfers WHERE started_at >= ?"
                f" AND outcome IN ({marks}) GROUP BY flow_id",
                (to_iso(since), *sorted(FAILURES)),
            )
            return {row["flow_id"]: int(row["n"]) for row in rows}

        return await self.storage.read(query)

    async def summary(self) -> dict[str, FlowSummary]:
        """Per flow: last transfer, last success, last outcome and counts by outcome."""
        return await self.storage.read(summarize)

    async def note_watched(self, flow_ids: Iterable[str], now: datetime) -> None:
        """Remember when the hub began watching each flow (the first time only): a flow is never
        late for a run that was due before the hub knew it."""
        rows = [(flow_id, to_iso(now)) for flow_id in flow_ids]

        def note(tx: Tx) -> None:
            for row in rows:
                tx.execute(_WATCH, row)

        await self.storage.write(note)

    async def watched_since(self) -> dict[str, datetime]:
        """Per flow id, since when the hub has been watching it (see :meth:`note_watched`)."""

        def query(tx: Tx) -> dict[str, datetime]:
            rows = tx.all("SELECT flow_id, since FROM flows_watched")
            return {row["flow_id"]: from_iso(row["since"]) for row in rows}

        return await self.storage.read(query)


def _filters(
    flow_id: str | None,
    outcome: TransferOutcome | None,
    since: datetime | None,
    location_id: str | None,
    delivery_id: int | None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if outcome is not None:
        asked = sorted(outcomes_asked(outcome))
        clauses.append(f"outcome IN ({', '.join('?' for _ in asked)})")
        params.extend(str(o) for o in asked)
    for column, value in (
        ("flow_id = ?", flow_id),
        ("started_at >= ?", to_iso(since) if since else None),
        ("location_id = ?", location_id),
        ("delivery_id = ?", delivery_id),
    ):
        if value is not None:
            clauses.append(column)
            params.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


_TEXT_COLUMNS = ("error", "file_name", "endpoint", "remote_ref", "checksum")


def _more_filters(
    where: str, params: list[Any], until: datetime | None, text: str | None
) -> tuple[str, list[Any]]:
    clauses, more = ([where.removeprefix(" WHERE ")] if where else []), list(params)
    if until is not None:
        clauses.append("started_at < ?")
        more.append(to_iso(until))
    if text and text.strip():
        pattern = "%" + _escape_like(text.strip().lower()) + "%"
        clauses.append("(" + " OR ".join(f"LOWER({c}) LIKE ? ESCAPE '\\'" for c in _TEXT_COLUMNS) + ")")
        more.extend(pattern for _ in _TEXT_COLUMNS)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), more


def _escape_like(text: str) -> str:
    """``%`` and ``_`` typed by a person are themselves, not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def summarize(tx: Tx) -> dict[str, FlowSummary]:
    """Per flow: last transfer, last success, last outcome and counts by outcome (from the running
    totals kept with each transfer)."""
    summaries: dict[str, FlowSummary] = {}
    rows = tx.all("SELECT flow_id, outcome, transfers AS n, last_finished_at AS last FROM transfer_totals")
    for row in rows:
        summary = summaries.setdefault(
            row["flow_id"],
            FlowSummary(
                flow_id=row["flow_id"],
                last_transfer_at=None,
                last_success_at=None,
                last_outcome=None,
                counts={},
            ),
        )
        summary.counts[row["outcome"]] = row["n"]
        last = from_iso(row["last"])
        if summary.last_transfer_at is None or last > summary.last_transfer_at:
            summary.last_transfer_at = last
            summary.last_outcome = TransferOutcome(row["outcome"])
        if row["outcome"] == TransferOutcome.SUCCEEDED:
            summary.last_success_at = last
    return summaries
