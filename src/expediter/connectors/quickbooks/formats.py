"""QuickBooks Desktop IIF: a GENERAL JOURNAL transaction per entry (TRNS, SPL..., ENDTRNS).

IIF is tab-separated; debits are positive and credits negative; the first row of a transaction is
``TRNS`` and every other line an ``SPL``. Tabs and line breaks inside a memo would break the file,
so they are replaced by spaces.
"""

from __future__ import annotations

from collections.abc import Iterable

from expediter.connectors.quickbooks.mapping import decimal_text
from expediter.operations.accounting.journal import JournalEntry, JournalLine

HEADER = [
    "!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tDOCNUM\tMEMO",
    "!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tDOCNUM\tMEMO",
    "!ENDTRNS",
]
TRANSACTION_TYPE = "GENERAL JOURNAL"


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines())


def _row(kind: str, entry: JournalEntry, line: JournalLine) -> str:
    amount = line.debit.amount - line.credit.amount
    memo = f"{line.memo} [{line.dimension}]" if line.dimension else line.memo
    fields = [
        kind,
        "",
        TRANSACTION_TYPE,
        f"{entry.business_date:%m/%d/%Y}",
        _clean(line.account),
        decimal_text(amount),
        entry.document_number,
        _clean(memo),
    ]
    return "\t".join(fields)


def iif_rows(entry: JournalEntry) -> list[str]:
    if not entry.lines:
        return []
    first, *rest = entry.lines
    return [_row("TRNS", entry, first), *(_row("SPL", entry, line) for line in rest), "ENDTRNS"]


def iif_journal(entries: Iterable[JournalEntry]) -> str:
    """One IIF file holding each entry as a GENERAL JOURNAL transaction (CRLF, as Desktop writes)."""
    rows = list(HEADER)
    for entry in entries:
        rows.extend(iif_rows(entry))
    return "\r\n".join(rows) + "\r\n"
