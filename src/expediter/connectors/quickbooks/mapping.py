"""A journal entry as a QuickBooks Online ``JournalEntry`` object.

QBO wants one ``Line`` per posting with ``DetailType = "JournalEntryLineDetail"`` and
``JournalEntryLineDetail.PostingType`` ``Debit``/``Credit``, a positive decimal ``Amount`` and an
``AccountRef`` (the account's Id). ``DocNumber`` carries our stable document number so a re-post
is recognisable in QuickBooks too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from expediter.operations.accounting.journal import JournalEntry, JournalLine


def decimal_text(minor: int) -> str:
    """Minor units as the two-decimal text accounting files expect (``-12.50``)."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def _qbo_line(index: int, line: JournalLine, account_ids: Mapping[str, str]) -> dict[str, Any]:
    debit = line.debit.amount > 0
    amount = line.debit.amount if debit else line.credit.amount
    description = f"{line.memo} [{line.dimension}]" if line.dimension else line.memo
    return {
        "Id": str(index),
        "Description": description[:4000],
        "Amount": float(decimal_text(amount)),
        "DetailType": "JournalEntryLineDetail",
        "JournalEntryLineDetail": {
            "PostingType": "Debit" if debit else "Credit",
            "AccountRef": {"value": account_ids.get(line.account, line.account), "name": line.account},
        },
    }


QBO_DOC_NUMBER_LIMIT = 21


def qbo_doc_number(entry: JournalEntry) -> str:
    """Our document number, or (past QBO's 21 characters) a stable short form of it.

    Truncating would let two long location ids collide; a hash of the location keeps it unique.
    """
    if len(entry.document_number) <= QBO_DOC_NUMBER_LIMIT:
        return entry.document_number
    digest = hashlib.sha256(entry.location_id.encode()).hexdigest()[:8]
    return f"DS-{digest}-{entry.business_date:%Y%m%d}"


def qbo_journal_entry(entry: JournalEntry, account_ids: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The request body for ``POST /v3/company/{realm}/journalentry``."""
    ids = account_ids or {}
    return {
        "DocNumber": qbo_doc_number(entry),
        "TxnDate": entry.business_date.isoformat(),
        "PrivateNote": entry.memo[:4000],
        "CurrencyRef": {"value": entry.currency},
        "Line": [_qbo_line(i, line, ids) for i, line in enumerate(entry.lines)],
    }
