"""QuickBooks Desktop IIF: a GENERAL JOURNAL transaction per entry (TRNS, SPL..., ENDTRNS).

Intuit's IIF reference for transactions: the header rows ``!TRNS`` / ``!SPL`` / ``!ENDTRNS`` name
the columns; ``TRNSTYPE``, ``ACCNT`` and ``AMOUNT`` are required; ``NAME`` is the customer, vendor,
employee or other name; ``CLASS`` the class; ``DOCNUM`` the transaction's number, which QuickBooks
Desktop keeps to 11 characters (:func:`~.mapping.iif_doc_number`). IIF is tab-separated; debits are
positive and credits negative; the first row of a transaction is ``TRNS`` and every other line an
``SPL``. Tabs and line breaks inside a field would break the file, so they become spaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from expediter.connectors.quickbooks.config import QuickBooksSettings
from expediter.connectors.quickbooks.mapping import decimal_text, iif_doc_number, qbo_bill_number
from expediter.model.journal import JournalEntry, JournalLine
from expediter.model.vendors import APBill, BillKind

COLUMNS = "DATE\tACCNT\tNAME\tCLASS\tAMOUNT\tDOCNUM\tMEMO"
HEADER = [
    f"!TRNS\tTRNSID\tTRNSTYPE\t{COLUMNS}",
    f"!SPL\tSPLID\tTRNSTYPE\t{COLUMNS}",
    "!ENDTRNS",
]
TRANSACTION_TYPE = "GENERAL JOURNAL"


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines())


def _class(entry: JournalEntry, line: JournalLine, settings: QuickBooksSettings) -> str:
    if settings.iif_class == "location":
        return entry.location_id
    if settings.iif_class == "dimension":
        return line.dimension
    return ""


def _row(kind: str, entry: JournalEntry, line: JournalLine, settings: QuickBooksSettings) -> str:
    amount = line.debit.amount - line.credit.amount
    memo = f"{line.memo} [{line.dimension}]" if line.dimension else line.memo
    fields = [
        kind,
        "",
        TRANSACTION_TYPE,
        f"{entry.business_date:%m/%d/%Y}",
        _clean(line.account),
        _clean(settings.iif_name),
        _clean(_class(entry, line, settings)),
        decimal_text(amount),
        iif_doc_number(entry),
        _clean(f"{memo} ({entry.document_number})" if memo else entry.document_number),
    ]
    return "\t".join(fields)


def iif_rows(entry: JournalEntry, settings: QuickBooksSettings | None = None) -> list[str]:
    options = settings or QuickBooksSettings()
    if not entry.lines:
        return []
    first, *rest = entry.lines
    return [
        _row("TRNS", entry, first, options),
        *(_row("SPL", entry, line, options) for line in rest),
        "ENDTRNS",
    ]


def iif_journal(entries: Iterable[JournalEntry], settings: QuickBooksSettings | None = None) -> str:
    """One IIF file holding each entry as a GENERAL JOURNAL transaction (CRLF, as Desktop writes)."""
    rows = list(HEADER)
    for entry in entries:
        rows.extend(iif_rows(entry, settings))
    return "\r\n".join(rows) + "\r\n"


def iif_bill(bills: Iterable[APBill]) -> str:
    """QuickBooks Desktop IIF: one BILL (or BILL CRED, a vendor credit) transaction per bill; the
    payable account carries the total, each split an expense line."""
    header = [
        "!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tNAME\tAMOUNT\tDOCNUM\tMEMO\tDUEDATE",
        "!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tNAME\tAMOUNT\tDOCNUM\tMEMO",
        "!ENDTRNS",
    ]
    rows = list(header)
    for bill in bills:
        kind = "BILL CRED" if bill.kind is BillKind.CREDIT else "BILL"
        sign = 1 if bill.kind is BillKind.CREDIT else -1
        day = bill.bill_date.strftime("%m/%d/%Y")
        due = bill.due_date.strftime("%m/%d/%Y") if bill.due_date else ""
        name, number = _clean(bill.vendor_name), _clean(bill.bill_number)
        total = bill.total().amount * sign
        rows.append(
            f"TRNS\t\t{kind}\t{day}\t{_clean(bill.payable_account)}\t{name}\t{decimal_text(total)}"
            f"\t{number}\t{_clean(bill.memo)}\t{due}"
        )
        for line in bill.lines:
            amount = -line.amount.amount * sign
            rows.append(
                f"SPL\t\t{kind}\t{day}\t{_clean(line.account)}\t{name}\t{decimal_text(amount)}\t{number}"
                f"\t{_clean(line.description)}"
            )
        rows.append("ENDTRNS")
    return "\r\n".join(rows) + "\r\n"


def _note(bill: APBill) -> str:
    """The bill's memo, led by the vendor's whole invoice number when ``DocNumber`` had to shorten it."""
    if qbo_bill_number(bill.bill_number) == bill.bill_number:
        return bill.memo
    return f"invoice {bill.bill_number}" + (f"; {bill.memo}" if bill.memo else "")


def qbo_bill(bill: APBill) -> dict[str, object]:
    """A QuickBooks Online ``Bill`` (or ``VendorCredit``) object, amounts as exact decimals."""
    body: dict[str, object] = {
        "DocNumber": qbo_bill_number(bill.bill_number),
        "TxnDate": bill.bill_date.isoformat(),
        "VendorRef": {"value": bill.vendor, "name": bill.vendor_name},
        "APAccountRef": {"value": bill.payable_account},
        "CurrencyRef": {"value": bill.currency},
        "PrivateNote": _note(bill),
        "Line": [
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": Decimal(line.amount.amount).scaleb(-2),
                "Description": line.description,
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": line.account}},
            }
            for line in bill.lines
        ],
    }
    if bill.due_date is not None:
        body["DueDate"] = bill.due_date.isoformat()
    return {"VendorCredit" if bill.kind is BillKind.CREDIT else "Bill": body}
