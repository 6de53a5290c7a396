"""The quarantine CSV: an import's bad rows, to fix in a spreadsheet and import again.

The file has ``import_error`` (the row it was and every problem in it) and then the original
columns; UTF-8 with a byte order mark and CRLF, so Excel opens it as it was; each cell is written inert
(a leading ``'`` where a spreadsheet would run it as a formula), which a re-import takes off again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from typing import BinaryIO

from expediter.engine.imports.store import BadRow, bad_rows, get
from expediter.formats.tabular import inert
from expediter.storage.base import Storage

QUARANTINE_COLUMN = "import_error"


def quarantine_header(header: Sequence[str]) -> list[str]:
    """The error column first: a row with more cells than the header cannot push it aside."""
    return [QUARANTINE_COLUMN, *header]


def quarantine_lines(header: Sequence[str], rows: Sequence[BadRow], *, first: bool) -> bytes:
    """Part of a quarantine CSV (UTF-8 with a BOM, CRLF, cells inert in a spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if first:
        out.write("\ufeff")
        writer.writerow([inert(name) for name in quarantine_header(header)])
    for row in rows:
        writer.writerow([inert(row.error_text()), *(inert(cell) for cell in row.cells)])
    return out.getvalue().encode("utf-8")


async def quarantine_chunks(storage: Storage, import_id: int) -> AsyncIterator[bytes]:
    """The quarantine CSV of an import, a page of bad rows at a time (for a download)."""
    record = await get(storage, import_id)
    yield quarantine_lines(record.header, [], first=True)
    after = 0
    while page := await bad_rows(storage, import_id, after=after):
        yield quarantine_lines(record.header, page, first=False)
        after = page[-1].row


async def write_quarantine(storage: Storage, import_id: int, out: BinaryIO) -> int:
    """Write the import's bad rows as a CSV to fix and import again; returns how many."""
    async for chunk in quarantine_chunks(storage, import_id):
        out.write(chunk)
    return (await get(storage, import_id)).rows_bad
