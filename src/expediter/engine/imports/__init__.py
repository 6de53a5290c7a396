"""Manual imports: a file checked row by row, previewed, its good rows committed at once, the bad
ones quarantined with their reasons.

1. **Read and check** (:func:`read_file`): the file streams a row at a time
   (:mod:`expediter.formats.tabular` finds its encoding, delimiter and Excel's quirks); each row is
   checked by the flow's import kind (:mod:`expediter.operations.imports`) and staged in the hub's
   database (:mod:`~expediter.engine.imports.store`, a few hundred rows a transaction, so a
   million-row file never holds the database's write lock for long, nor memory). Then the
   whole-file rules run in SQL: a key listed twice, and rows that stand or fall together (an
   employee's jobs, an invoice's lines). The import is then ``previewed``: every problem by row and
   column (:func:`preview`).
2. **Commit** (:func:`commit`): the good rows at once, and one inbound transfer in the ledger
   (:mod:`~expediter.engine.imports.commit`).
3. **Quarantine** (:func:`write_quarantine`): the bad rows as a CSV with the file's own columns and
   an ``import_error`` column; fixed and imported again, its rows are read as any other file (the
   error column is ignored, and a count sheet continues the day's sheet).

A dry run (:func:`dry_run`) reads and checks the same way and deletes what it staged.
"""

from expediter.engine.imports.commit import MANUAL_SOURCE, Committed, commit, request_of
from expediter.engine.imports.quarantine import QUARANTINE_COLUMN, write_quarantine
from expediter.engine.imports.reading import (
    Preview,
    Progress,
    dry_run,
    import_context,
    import_flow,
    preview,
    read_file,
    recipe_book_for,
)
from expediter.engine.imports.store import (
    BadRow,
    GoodRow,
    ImportRecord,
    ImportRequest,
    ImportState,
    bad_rows,
    create,
    discard,
    get,
    price_list,
    recent,
)

__all__ = [
    "MANUAL_SOURCE",
    "QUARANTINE_COLUMN",
    "BadRow",
    "Committed",
    "GoodRow",
    "ImportRecord",
    "ImportRequest",
    "ImportState",
    "Preview",
    "Progress",
    "bad_rows",
    "commit",
    "create",
    "discard",
    "dry_run",
    "get",
    "import_context",
    "import_flow",
    "preview",
    "price_list",
    "read_file",
    "recent",
    "recipe_book_for",
    "request_of",
    "write_quarantine",
]
