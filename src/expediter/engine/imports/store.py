"""The tables of manual imports (``imports``, ``import_rows``): every query of them is here.

An import is ``reading`` while its rows are staged, ``previewed`` once every row was checked,
then ``committed`` or ``discarded`` (or ``failed``: the file could not be read at all). A row is
staged with its original cells, its record (a good row) or its problems (a bad one). Committed
price lists keep their rows here; other kinds' committed records live where their kind stores them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import msgspec

from expediter.catalog.schema import Flow
from expediter.errors import RejectedInput
from expediter.formats.tabular import Encoding
from expediter.model import clock
from expediter.model.location import Location
from expediter.operations.imports import KeyRule, Problem
from expediter.storage.base import Storage, Tx, from_iso, now_iso

DELETE_ROWS = 5000
"""Rows deleted (or marked) per transaction."""
STALE = timedelta(days=7)
"""A preview nobody committed or discarded is forgotten after this long."""


class ImportState(StrEnum):
    READING = "reading"
    PREVIEWED = "previewed"
    COMMITTED = "committed"
    DISCARDED = "discarded"
    FAILED = "failed"


class ImportRecord(msgspec.Struct, kw_only=True):
    id: int
    flow_id: str
    kind: str
    location_id: str | None
    business_date: date | None
    file_name: str
    checksum: str
    bytes: int
    encoding: str
    delimiter: str
    header: list[str]
    unknown_columns: list[str]
    continues: bool
    """A file re-imported from a quarantine CSV (it has the ``import_error`` column)."""
    state: ImportState
    rows_read: int
    rows_good: int
    rows_bad: int
    error: str
    """Why the file could not be read at all (state ``failed``)."""
    outcome: str
    """What the commit did, in words."""
    created_at: datetime
    committed_at: datetime | None

    @property
    def encoding_label(self) -> str:
        return Encoding(self.encoding).label if self.encoding else "unread"


class GoodRow(msgspec.Struct, kw_only=True):
    row: int
    cells: list[str]


class BadRow(msgspec.Struct, kw_only=True):
    row: int
    cells: list[str]
    problems: list[Problem]

    def error_text(self) -> str:
        return f"row {self.row}: " + "; ".join(p.text() for p in self.problems)


@dataclass(frozen=True)
class ImportRequest:
    flow: Flow
    location: Location
    business_date: date
    file_name: str
    endpoint: str = ""
    """Where the file came from, for the ledger (the folder, or ``dashboard``)."""


class StagedRow(msgspec.Struct, array_like=True):
    number: int
    key: str
    record: bytes | None
    cells: str
    problems: str | None


encode = msgspec.json.Encoder().encode


_problems = msgspec.json.Decoder(list[Problem])


_cells = msgspec.json.Decoder(list[str])


INSERT_ROWS = 100
"""Rows per ``INSERT`` statement (one statement, many rows: far fewer round trips to SQLite)."""


@cache
def _insert_sql(count: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * count)
    return f"INSERT INTO import_rows (import_id, row_number, key, record, cells, problems) VALUES {values}"


def stage_writer(import_id: int, batch: list[StagedRow], read: int) -> Callable[[Tx], None]:
    params = [
        [
            value
            for row in batch[start : start + INSERT_ROWS]
            for value in (import_id, row.number, row.key, row.record, row.cells, row.problems)
        ]
        for start in range(0, len(batch), INSERT_ROWS)
    ]

    def insert(tx: Tx) -> None:
        for values in params:
            tx.execute(_insert_sql(len(values) // 6), values)
        tx.execute(
            "UPDATE imports SET rows_read = ?, updated_at = ? WHERE id = ?", (read, now_iso(), import_id)
        )

    return insert


async def create(storage: Storage, request: ImportRequest) -> int:
    """A new import, ``reading``; previews older than :data:`STALE` are forgotten first."""
    await forget_stale(storage)
    now = now_iso()
    params = (
        request.flow.id,
        request.flow.data,
        request.location.id,
        request.business_date.isoformat(),
        request.file_name,
        ImportState.READING.value,
        now,
        now,
    )

    def insert(tx: Tx) -> int:
        found = tx.insert(
            "INSERT INTO imports (flow_id, kind, location_id, business_date, file_name, state, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params,
        )
        assert found is not None
        return found

    return await storage.write(insert)


async def forget_stale(storage: Storage) -> None:
    cutoff = (clock.now() - STALE).isoformat(timespec="microseconds")
    rows = await storage.read(
        lambda tx: tx.all(
            "SELECT id FROM imports WHERE state IN (?, ?) AND updated_at < ?",
            (ImportState.PREVIEWED.value, ImportState.READING.value, cutoff),
        )
    )
    for row in rows:
        await delete(storage, int(row["id"]))


async def delete_rows(storage: Storage, import_id: int) -> None:
    """Every staged row of the import, :data:`DELETE_ROWS` a transaction (a write must be quick)."""
    found = await storage.read(
        lambda tx: tx.one("SELECT MAX(row_number) AS last FROM import_rows WHERE import_id = ?", (import_id,))
    )
    last = int(found["last"]) if found is not None and found["last"] is not None else 0
    for low in range(0, last, DELETE_ROWS):
        await storage.write(_deleter(import_id, low, low + DELETE_ROWS))


def _deleter(import_id: int, low: int, high: int) -> Callable[[Tx], None]:
    return lambda tx: tx.execute(
        "DELETE FROM import_rows WHERE import_id = ? AND row_number > ? AND row_number <= ?",
        (import_id, low, high),
    )


async def delete(storage: Storage, import_id: int) -> None:
    """The import and its rows, gone (a dry run, a stale preview)."""
    await delete_rows(storage, import_id)
    await storage.write(lambda tx: tx.execute("DELETE FROM imports WHERE id = ?", (import_id,)))


async def started(
    storage: Storage,
    import_id: int,
    *,
    encoding: str,
    delimiter: str,
    header: list[str],
    unknown: list[str],
    continues: bool,
) -> None:
    params = (
        encoding,
        delimiter,
        encode(header).decode(),
        encode(unknown).decode(),
        int(continues),
        now_iso(),
        import_id,
    )
    await storage.write(
        lambda tx: tx.execute(
            "UPDATE imports SET encoding = ?, delimiter = ?, header = ?, unknown_columns = ?, continues = ?,"
            " updated_at = ? WHERE id = ?",
            params,
        )
    )


async def failed(storage: Storage, import_id: int, text: str) -> None:
    await delete_rows(storage, import_id)
    await storage.write(
        lambda tx: tx.execute(
            "UPDATE imports SET state = ?, error = ?, updated_at = ? WHERE id = ?",
            (ImportState.FAILED.value, text, now_iso(), import_id),
        )
    )


async def finish(
    storage: Storage, import_id: int, *, rule: KeyRule, title: str, checksum: str, size: int, encoding: str
) -> None:
    """The whole-file rules (:func:`whole_file_rules`), the counts, and ``previewed``."""
    await whole_file_rules(storage, import_id, rule, title)
    counts = await storage.read(
        lambda tx: tx.one(
            "SELECT COUNT(*) AS n, SUM(CASE WHEN problems IS NULL THEN 1 ELSE 0 END) AS good"
            " FROM import_rows WHERE import_id = ?",
            (import_id,),
        )
    )
    total = int(counts["n"]) if counts is not None else 0
    good = int(counts["good"] or 0) if counts is not None else 0
    params = (
        ImportState.PREVIEWED.value,
        checksum,
        size,
        encoding,
        total,
        good,
        total - good,
        now_iso(),
        import_id,
    )
    await storage.write(
        lambda tx: tx.execute(
            "UPDATE imports SET state = ?, checksum = ?, bytes = ?, encoding = ?, rows_read = ?,"
            " rows_good = ?, rows_bad = ?, updated_at = ? WHERE id = ?",
            params,
        )
    )


_REPEATED = (
    "SELECT key, MIN(row_number) AS first FROM import_rows WHERE import_id = ? AND key <> ''"
    " GROUP BY key HAVING COUNT(*) > 1"
)
_BAD_GROUPS = (
    "SELECT key, MIN(row_number) AS first FROM import_rows WHERE import_id = ? AND key <> ''"
    " AND problems IS NOT NULL GROUP BY key"
)


async def whole_file_rules(storage: Storage, import_id: int, rule: KeyRule, title: str) -> None:
    """A key listed again (``unique``) makes its later rows bad; a bad row makes the other rows
    of its group (``group``) bad too. Found on a read connection, marked in small writes."""
    if rule is KeyRule.NONE:
        return
    sql = _REPEATED if rule is KeyRule.UNIQUE else _BAD_GROUPS
    found = await storage.read(lambda tx: [(r["key"], int(r["first"])) for r in tx.all(sql, (import_id,))])
    for start in range(0, len(found), DELETE_ROWS):
        batch = found[start : start + DELETE_ROWS]
        await storage.write(_marker(import_id, rule, title, batch))


def _marker(import_id: int, rule: KeyRule, title: str, batch: list[tuple[str, int]]) -> Callable[[Tx], None]:
    def mark(tx: Tx) -> None:
        for key, first in batch:
            tx.execute(*_mark_sql(import_id, rule, title, key, first))

    return mark


def _mark_sql(import_id: int, rule: KeyRule, title: str, key: str, first: int) -> tuple[str, tuple[Any, ...]]:
    sql = (
        "UPDATE import_rows SET problems = ?, record = NULL"
        " WHERE import_id = ? AND key = ? AND problems IS NULL"
    )
    if rule is KeyRule.UNIQUE:
        problem = Problem(
            column="", message=f"{key} is listed again (first in row {first})", fix="keep one row"
        )
        return f"{sql} AND row_number > ?", (encode([problem]).decode(), import_id, key, first)
    problem = Problem(
        column="",
        message=f"row {first} of {key} is bad, and the rows of one {title} entry are kept or"
        " quarantined together",
        fix=f"fix row {first} and import these rows again with it",
    )
    return sql, (encode([problem]).decode(), import_id, key)


_RECORD_COLUMNS = (
    "id, flow_id, kind, location_id, business_date, file_name, checksum, bytes, encoding, delimiter,"
    " header, unknown_columns, continues, state, rows_read, rows_good, rows_bad, error, outcome,"
    " created_at, committed_at"
)


_names = msgspec.json.Decoder(list[str])


def _record(row: Any) -> ImportRecord:
    return ImportRecord(
        id=int(row["id"]),
        flow_id=row["flow_id"],
        kind=row["kind"],
        location_id=row["location_id"],
        business_date=date.fromisoformat(row["business_date"]) if row["business_date"] else None,
        file_name=row["file_name"],
        checksum=row["checksum"],
        bytes=int(row["bytes"]),
        encoding=row["encoding"],
        delimiter=row["delimiter"],
        header=_names.decode(row["header"]),
        unknown_columns=_names.decode(row["unknown_columns"]),
        continues=bool(row["continues"]),
        state=ImportState(row["state"]),
        rows_read=int(row["rows_read"]),
        rows_good=int(row["rows_good"]),
        rows_bad=int(row["rows_bad"]),
        error=row["error"],
        outcome=row["outcome"],
        created_at=from_iso(row["created_at"]),
        committed_at=from_iso(row["committed_at"]) if row["committed_at"] else None,
    )


async def get(storage: Storage, import_id: int) -> ImportRecord:
    def query(tx: Tx) -> ImportRecord | None:
        row = tx.one(f"SELECT {_RECORD_COLUMNS} FROM imports WHERE id = ?", (import_id,))
        return _record(row) if row else None

    found = await storage.read(query)
    if found is None:
        raise RejectedInput(f"no import {import_id}", where="the import id", fix="list them at /imports")
    return found


async def recent(storage: Storage, limit: int = 30) -> list[ImportRecord]:
    return await storage.read(
        lambda tx: [
            _record(r)
            for r in tx.all(f"SELECT {_RECORD_COLUMNS} FROM imports ORDER BY id DESC LIMIT ?", (limit,))
        ]
    )


def _bad_row(row: Any) -> BadRow:
    return BadRow(
        row=int(row["row_number"]),
        cells=_cells.decode(row["cells"]),
        problems=_problems.decode(row["problems"]),
    )


async def bad_rows(storage: Storage, import_id: int, *, after: int = 0, limit: int = 1000) -> list[BadRow]:
    """Bad rows in file order, from row ``after`` on (pages of ``limit``)."""
    sql = (
        "SELECT row_number, cells, problems FROM import_rows WHERE import_id = ? AND row_number > ?"
        " AND problems IS NOT NULL ORDER BY row_number LIMIT ?"
    )
    return await storage.read(lambda tx: [_bad_row(r) for r in tx.all(sql, (import_id, after, limit))])


async def good_rows(storage: Storage, import_id: int, *, limit: int) -> list[GoodRow]:
    """The first good rows as the file had them, in file order."""
    sql = (
        "SELECT row_number, cells FROM import_rows WHERE import_id = ? AND problems IS NULL"
        " ORDER BY row_number LIMIT ?"
    )

    def query(tx: Tx) -> list[GoodRow]:
        return [
            GoodRow(row=int(r["row_number"]), cells=_cells.decode(r["cells"]))
            for r in tx.all(sql, (import_id, limit))
        ]

    return await storage.read(query)


async def good_groups(
    storage: Storage, import_id: int, record_type: type[Any]
) -> list[tuple[str, list[Any]]]:
    """The committed records by key, in the order each key first appears (all in memory: the
    kinds committed to the inbox are sheets and rosters, not million-row lists)."""
    decoder = msgspec.json.Decoder(record_type)
    sql = "SELECT key, record FROM import_rows WHERE import_id = ? AND problems IS NULL ORDER BY row_number"

    def query(tx: Tx) -> list[tuple[str, list[Any]]]:
        groups: dict[str, list[Any]] = {}
        for row in tx.all(sql, (import_id,)):
            groups.setdefault(row["key"], []).append(decoder.decode(bytes(row["record"])))
        return list(groups.items())

    return await storage.read(query)


def committer(
    record: ImportRecord, outcome: str, stored: int, state: ImportState = ImportState.COMMITTED
) -> Callable[[Tx], None]:
    kept = f" ({stored:,} {'message' if stored == 1 else 'messages'} in the inbox)" if stored else ""
    text = outcome or _rows(record.rows_good) + " committed" + kept

    def mark(tx: Tx) -> None:
        now = now_iso()
        current = tx.one("SELECT state FROM imports WHERE id = ?", (record.id,))
        if current is None or current["state"] != ImportState.PREVIEWED.value:
            raise RejectedInput(
                f"import {record.id} was committed or discarded meanwhile",
                where=f"import {record.id}",
                fix="reload the page: it shows what became of it",
            )
        tx.execute(
            "UPDATE imports SET state = ?, outcome = ?, committed_at = ?, updated_at = ?"
            " WHERE id = ? AND state = ?",
            (state.value, text, now, now, record.id, ImportState.PREVIEWED.value),
        )

    return mark


def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


async def set_outcome(storage: Storage, import_id: int, outcome: str) -> None:
    await storage.write(
        lambda tx: tx.execute("UPDATE imports SET outcome = ? WHERE id = ?", (outcome, import_id))
    )


async def same_file_committed(storage: Storage, record: ImportRecord) -> int | None:
    sql = (
        "SELECT id FROM imports WHERE flow_id = ? AND checksum = ? AND state = ? AND id <> ?"
        " AND COALESCE(location_id, '') = ? AND COALESCE(business_date, '') = ? ORDER BY id LIMIT 1"
    )
    params = (
        record.flow_id,
        record.checksum,
        ImportState.COMMITTED.value,
        record.id,
        record.location_id or "",
        record.business_date.isoformat() if record.business_date else "",
    )
    row = await storage.read(lambda tx: tx.one(sql, params))
    return int(row["id"]) if row else None


async def discard(storage: Storage, import_id: int) -> None:
    """Forget a preview: its staged rows go; the import stays listed as ``discarded``."""
    await delete_rows(storage, import_id)
    await storage.write(
        lambda tx: tx.execute(
            "UPDATE imports SET state = ?, updated_at = ? WHERE id = ? AND state IN (?, ?)",
            (
                ImportState.DISCARDED.value,
                now_iso(),
                import_id,
                ImportState.PREVIEWED.value,
                ImportState.FAILED.value,
            ),
        )
    )


async def price_list(storage: Storage, flow_id: str, *, page: int = 1000) -> AsyncIterator[Any]:
    """The items of the newest committed price list of ``flow_id``, a page at a time."""
    from expediter.operations.imports import PriceListItem

    decoder = msgspec.json.Decoder(PriceListItem)
    newest = await storage.read(
        lambda tx: tx.one(
            "SELECT MAX(id) AS id FROM imports WHERE flow_id = ? AND kind = ? AND state = ?",
            (flow_id, "price_list", ImportState.COMMITTED.value),
        )
    )
    if newest is None or newest["id"] is None:
        return
    sql = (
        "SELECT row_number, record FROM import_rows WHERE import_id = ? AND row_number > ?"
        " AND problems IS NULL ORDER BY row_number LIMIT ?"
    )
    import_id, after = int(newest["id"]), 0
    while rows := await storage.read(_page(sql, (import_id, after, page))):
        for row in rows:
            yield decoder.decode(bytes(row["record"]))
        after = int(rows[-1]["row_number"])


def _page(sql: str, params: tuple[Any, ...]) -> Callable[[Tx], list[Any]]:
    return lambda tx: tx.all(sql, params)
