"""Reading an import: the file streamed a row at a time, each row checked and staged.

Checking runs off the event loop (a worker thread), staging on it, :data:`STAGE_ROWS` rows a
transaction; a file that cannot be read at all (no header, a required column missing, a quote
left open) fails whole with the reason, and keeps none of its rows; so does a file with a full card
number in a row (nothing holding one is kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

import msgspec

from expediter.catalog.schema import Catalog, Flow
from expediter.engine.hub import Hub
from expediter.engine.imports.quarantine import QUARANTINE_COLUMN, write_quarantine
from expediter.engine.imports.store import (
    BadRow,
    GoodRow,
    ImportRecord,
    ImportRequest,
    ImportState,
    StagedRow,
    bad_rows,
    create,
    delete,
    encode,
    failed,
    finish,
    get,
    good_rows,
    stage_writer,
    started,
)
from expediter.errors import ConfigError, ExpediterError, RejectedInput
from expediter.formats.tabular import Table, TableRow, open_table, restored
from expediter.model.cards import contains_card_number, might_hold_card_number, must_scan_decoded
from expediter.operations.imports import Cells, ImportContext, ImportKind, KeyRule, Parsed, Problem, kind_for
from expediter.operations.imports.counts import COUNTS_KIND
from expediter.operations.inventory.export import load_book
from expediter.operations.inventory.recipes import RecipeBook
from expediter.storage.base import Storage

STAGE_ROWS = 500
"""Rows staged per transaction: each holds the write lock for a few milliseconds only."""


PREVIEW_ROWS = 200
"""Bad rows a preview lists (the quarantine CSV has them all)."""


Progress = Callable[[int, int], None]
"""Called with (bytes read, rows read) as the reading goes."""


SAMPLE_ROWS = 10
"""Good rows a preview shows."""


class Preview(msgspec.Struct, kw_only=True):
    record: ImportRecord
    bad_rows: list[BadRow]
    """The first :data:`PREVIEW_ROWS` bad rows, in file order."""
    samples: list[GoodRow]
    """The first :data:`SAMPLE_ROWS` good rows, as the file has them."""


def import_flow(catalog: Catalog, flow_id: str) -> Flow:
    flow = catalog.flow(flow_id)
    if flow is None:
        raise ConfigError(f"no flow {flow_id!r} in the catalog; `expediter flows` lists them")
    kind_for(flow.data)
    return flow


def recipe_book_for(catalog: Catalog, flow: Flow) -> RecipeBook | None:
    """The recipe book of the flow's systems (or of any system naming one), to check ingredients."""
    systems = [catalog.system(flow.to), catalog.system(flow.from_), *catalog.systems]
    for system in systems:
        if system is not None and system.settings.get("recipes"):
            return load_book(catalog, str(system.settings["recipes"]))
    return None


def import_context(catalog: Catalog, request: ImportRequest, table: Table | None = None) -> ImportContext:
    book = recipe_book_for(catalog, request.flow) if request.flow.data in _BOOK_KINDS else None
    return ImportContext(
        catalog=catalog,
        flow=request.flow,
        location=request.location,
        business_date=request.business_date,
        book=book,
        decimal_comma=table is not None and table.delimiter == ";",
        date_format=str(request.flow.settings.get("date_format", "")),
    )


_BOOK_KINDS = frozenset({COUNTS_KIND, "recipes", "price_list"})


class RowChecker:
    """Reads the rows of one table for one kind (sync: it runs off the event loop)."""

    def __init__(self, kind: ImportKind, context: ImportContext, table: Table) -> None:
        self.kind = kind
        self.context = context
        self.table = table
        self.continues = QUARANTINE_COLUMN in table.columns
        self.keep = [i for i, name in enumerate(table.columns) if name != QUARANTINE_COLUMN]
        self.header = [table.header[i] for i in self.keep]
        self.positions = {name: i for i, name in enumerate(table.columns)}
        known = {c.name for c in kind.columns}
        self.unknown = [
            table.header[i] for i, n in enumerate(table.columns) if n not in known | {QUARANTINE_COLUMN}
        ]
        missing = [c.name for c in kind.columns if c.required and c.name not in self.positions]
        if missing:
            raise RejectedInput(
                f"the {kind.title} has no {', '.join(missing)} column",
                where="row 1 (the header)",
                fix=f"name the columns {', '.join(c.name for c in kind.columns if c.required)}"
                f" (found: {', '.join(table.header)})",
            )

    def check(self, row: TableRow) -> StagedRow:
        _refuse_card_numbers(row)
        values = {name: row.cells[i] for name, i in self.positions.items() if name != QUARANTINE_COLUMN}
        if self.continues:
            values = {name: restored(value) for name, value in values.items()}
        cells = Cells(
            row.number,
            values,
            decimal_comma=self.context.decimal_comma,
            date_format=self.context.date_format,
        )
        self._row_problems(row, cells)
        parsed: Parsed | None = self.kind.parse(cells)
        original = [row.cells[i] for i in self.keep] + row.cells[len(self.table.header) :]
        if self.continues:
            original = [restored(cell) for cell in original]
        if cells.problems or parsed is None:
            problems = cells.problems or [Problem(column="", message="the row could not be read")]
            key = parsed.key if parsed else _group_key(self.kind, values)
            return StagedRow(row.number, key, None, encode(original).decode(), encode(problems).decode())
        return StagedRow(row.number, parsed.key, encode(parsed.record), encode(original).decode(), None)

    def _row_problems(self, row: TableRow, cells: Cells) -> None:
        extra = len(row.cells) - len(self.table.header)
        if extra > 0:
            cells.problem(
                "",
                f"the row has {len(row.cells)} cells but the header names {len(self.table.header)} columns",
                'quote a cell that holds the delimiter ("1,250"), or give the extra cells a column name',
            )
        if row.unreadable:
            cells.problem("", "the row holds characters the file's encoding cannot read", "save as CSV UTF-8")


def _refuse_card_numbers(row: TableRow) -> None:
    """A row holding a full card number fails the whole file before any of it is kept (staged,
    quarantined or quoted in an error); the error names the row only."""
    text = "\x1f".join(row.cells)  # a separator no card number is written with
    raw = text.encode("utf-8", errors="surrogatepass")
    if not (must_scan_decoded(raw) or might_hold_card_number(raw)) or not contains_card_number(text):
        return
    raise RejectedInput(
        "the file contains what looks like a full card number; nothing of it was kept",
        where=f"row {row.number}",
        fix="remove the card number (keep only its last four digits) and import the file again",
    )


def _group_key(kind: ImportKind, values: dict[str, str]) -> str:
    """A bad row's key, so that the rows of its group are quarantined with it."""
    if kind.key_rule is not KeyRule.GROUP:
        return ""
    first = kind.columns[0].name
    return values.get(first, "").strip()


def _take(checker: RowChecker, rows: Iterator[TableRow], count: int) -> list[StagedRow]:
    batch = []
    for row in rows:
        batch.append(checker.check(row))
        if len(batch) >= count:
            break
    return batch


class _Hashing:
    """A binary stream that remembers the SHA-256 and size of what was read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


async def read_file(
    hub: Hub,
    request: ImportRequest,
    stream: BinaryIO,
    *,
    size: int | None = None,
    progress: Progress | None = None,
    import_id: int | None = None,
) -> ImportRecord:
    """Read, check and stage the whole file; returns the import, ``previewed`` or ``failed`` (a
    file that cannot be read at all: its ``error`` says why; nothing is kept of its rows)."""
    if import_id is None:
        import_id = await create(hub.storage, request)
    hashing = _Hashing(stream)
    try:
        table = await asyncio.to_thread(open_table, hashing, size=size)  # type: ignore[arg-type]
        context = import_context(hub.catalog, request, table)
        kind = kind_for(request.flow.data)(context)
        checker = RowChecker(kind, context, table)
        await started(
            hub.storage,
            import_id,
            encoding=table.encoding.value,
            delimiter=table.delimiter,
            header=checker.header,
            unknown=checker.unknown,
            continues=checker.continues,
        )
        await _stage(hub.storage, import_id, checker, table, progress)
    except ExpediterError as exc:  # the file (or the recipe book it is checked against) is unreadable
        await failed(hub.storage, import_id, _reason(exc))
        return await get(hub.storage, import_id)
    await finish(
        hub.storage,
        import_id,
        rule=kind.key_rule,
        title=kind.title,
        checksum=hashing.digest.hexdigest(),
        size=hashing.size,
        encoding=table.encoding_found.value,
    )
    return await get(hub.storage, import_id)


def _reason(exc: ExpediterError) -> str:
    if not isinstance(exc, RejectedInput):
        return str(exc)
    return exc.message + (f" ({exc.where})" if exc.where else "") + (f"; fix: {exc.fix}" if exc.fix else "")


async def _stage(
    storage: Storage, import_id: int, checker: RowChecker, table: Table, progress: Progress | None
) -> None:
    rows = table.rows()
    read = 0
    checking = asyncio.ensure_future(asyncio.to_thread(_take, checker, rows, STAGE_ROWS))
    try:
        while batch := await checking:
            # the next rows are checked (off the loop) while these are staged
            checking = asyncio.ensure_future(asyncio.to_thread(_take, checker, rows, STAGE_ROWS))
            read += len(batch)
            await storage.write(stage_writer(import_id, batch, read))
            if progress is not None:
                progress(table.bytes_read, read)
    finally:
        if not checking.done():
            with contextlib.suppress(Exception):
                await checking


async def dry_run(
    hub: Hub,
    request: ImportRequest,
    stream: BinaryIO,
    *,
    size: int | None = None,
    progress: Progress | None = None,
    quarantine: BinaryIO | None = None,
) -> tuple[ImportRecord, list[BadRow], list[GoodRow]]:
    """Check the whole file as :func:`read_file` does and keep nothing: returns the import, its
    first bad rows (all of them written to ``quarantine`` when given) and its first good rows;
    what was staged is deleted."""
    record = await read_file(hub, request, stream, size=size, progress=progress)
    try:
        if quarantine is not None and record.state is ImportState.PREVIEWED:
            await write_quarantine(hub.storage, record.id, quarantine)
        first = await bad_rows(hub.storage, record.id, limit=PREVIEW_ROWS)
        samples = await good_rows(hub.storage, record.id, limit=SAMPLE_ROWS)
    finally:
        await delete(hub.storage, record.id)
    return record, first, samples


async def preview(hub: Hub, import_id: int) -> Preview:
    return Preview(
        record=await get(hub.storage, import_id),
        bad_rows=await bad_rows(hub.storage, import_id, limit=PREVIEW_ROWS),
        samples=await good_rows(hub.storage, import_id, limit=SAMPLE_ROWS),
    )
