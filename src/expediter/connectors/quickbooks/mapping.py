"""A journal entry as a QuickBooks Online ``JournalEntry`` object, and document numbers that fit.

QBO wants one ``Line`` per posting with ``DetailType = "JournalEntryLineDetail"`` and
``JournalEntryLineDetail.PostingType`` ``Debit``/``Credit``, a positive ``Amount`` and an
``AccountRef`` whose ``value`` is the account's **Id** (Intuit's Accounting API, JournalEntry
entity). Amounts are exact decimals (``62.96``, never a binary float). ``DocNumber`` carries our
stable document number, within QBO's 21 characters, so a re-post is recognisable in QuickBooks too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from expediter.model.journal import JournalEntry, JournalLine
from expediter.plugin import TerminalError

QBO_DOC_NUMBER_LIMIT = 21
IIF_DOC_NUMBER_LIMIT = 11
"""QuickBooks Desktop's reference number (Entry No.) holds 11 characters."""
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
JSON = msgspec.json.Encoder(decimal_format="number")
"""Encodes ``Decimal`` amounts as JSON numbers, digit for digit."""


class UnresolvedAccounts(TerminalError):
    """Accounts with no QuickBooks Id: the entry is not sent (QBO refuses a name for an Id)."""

    def __init__(self, names: list[str], fix: str) -> None:
        self.names = names
        super().__init__(f"no QuickBooks account Id for {', '.join(repr(n) for n in names)}; fix: {fix}")


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
        "Amount": Decimal(decimal_text(amount)),
        "DetailType": "JournalEntryLineDetail",
        "JournalEntryLineDetail": {
            "PostingType": "Debit" if debit else "Credit",
            "AccountRef": {"value": account_ids[line.account], "name": line.account},
        },
    }


def qbo_doc_number(entry: JournalEntry) -> str:
    """Our document number, or (past QBO's 21 characters) a stable short form of it.

    Truncating would let two long location ids collide; a hash of the location keeps it unique.
    """
    if len(entry.document_number) <= QBO_DOC_NUMBER_LIMIT:
        return entry.document_number
    digest = hashlib.sha256(entry.location_id.encode()).hexdigest()[:8]
    return f"DS-{digest}-{entry.business_date:%Y%m%d}"


def qbo_bill_number(bill_number: str) -> str:
    """A vendor's invoice number as QBO's 21-character ``DocNumber``: as it is when it fits, else
    its first 12 characters and a hash of the whole (``INV-2026-000-1f3a9c2e``), so two long numbers
    that share a beginning stay two bills. The full number goes in the bill's note."""
    if len(bill_number) <= QBO_DOC_NUMBER_LIMIT:
        return bill_number
    digest = hashlib.sha256(bill_number.encode()).hexdigest()[:8]
    return f"{bill_number[: QBO_DOC_NUMBER_LIMIT - 9]}-{digest}"


def iif_doc_number(entry: JournalEntry) -> str:
    """A DOCNUM within QuickBooks Desktop's 11 characters, stable per location and day:
    ``<location>-<YYMMDD>`` for a location id of up to 4 characters, else 5 base-36 characters of
    a hash of the location and the date (``K3Z9Q261127``)."""
    day = f"{entry.business_date:%y%m%d}"
    if len(entry.location_id) + 1 + len(day) <= IIF_DOC_NUMBER_LIMIT and entry.location_id.isalnum():
        return f"{entry.location_id}-{day}"
    number = int.from_bytes(hashlib.sha256(entry.location_id.encode()).digest()[:8], "big")
    digits = ""
    for _ in range(IIF_DOC_NUMBER_LIMIT - len(day)):
        number, digit = divmod(number, 36)
        digits += _BASE36[digit]
    return digits + day


def missing_ids(entry: JournalEntry, account_ids: Mapping[str, str]) -> list[str]:
    return sorted({line.account for line in entry.lines if not account_ids.get(line.account)})


def qbo_journal_entry(entry: JournalEntry, account_ids: Mapping[str, str]) -> dict[str, Any]:
    """The request body for ``POST /v3/company/{realm}/journalentry``; every account must have its
    QuickBooks Id, or :class:`UnresolvedAccounts` names the ones that do not."""
    missing = missing_ids(entry, account_ids)
    if missing:
        raise UnresolvedAccounts(
            missing,
            "list them under [systems.settings.account_ids] (name = QuickBooks account Id), or post"
            ' with transport = "http", which looks the names up in QuickBooks',
        )
    return {
        "DocNumber": qbo_doc_number(entry),
        "TxnDate": entry.business_date.isoformat(),
        "PrivateNote": entry.memo[:4000],
        "CurrencyRef": {"value": entry.currency},
        "Line": [_qbo_line(i, line, account_ids) for i, line in enumerate(entry.lines)],
    }
