"""Xero's manual journal import CSV.

Columns as Xero's template names them (``*`` marks a mandatory column): Narration, Date, Description,
AccountCode, TaxRate, Amount (positive = debit, negative = credit), then tracking. Rows with the same
narration and date form one journal, so the narration carries our document number. Dates are in
the organisation's regional format (Xero's import reads them so): ``dd/mm/yyyy``, or
``mm/dd/yyyy`` for a US organisation (``region = "US"``, or ``date_format``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from expediter.connectors.quickbooks.mapping import decimal_text
from expediter.connectors.xero.config import XeroSettings
from expediter.model.journal import JournalEntry
from expediter.model.vendors import APBill

HEADER = [
    "*Narration",
    "*Date",
    "Description",
    "*AccountCode",
    "*TaxRate",
    "*Amount",
    "TrackingName1",
    "TrackingOption1",
]


def account_code(account: str, codes: Mapping[str, str]) -> str:
    """Xero wants the code, not the name: ``"4000 Food Sales"`` → ``4000`` unless mapped explicitly."""
    if account in codes:
        return codes[account]
    first = account.split(" ", 1)[0]
    return first if first.isalnum() else account


def xero_manual_journal_csv(entries: Iterable[JournalEntry], settings: XeroSettings | None = None) -> str:
    options = settings or XeroSettings()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for entry in entries:
        narration = f"Daily sales {entry.document_number}"
        for line in entry.lines:
            tracked = bool(line.dimension)
            writer.writerow(
                [
                    narration,
                    entry.business_date.strftime(options.date_pattern()),
                    line.memo,
                    account_code(line.account, options.account_codes),
                    options.tax_rate,
                    decimal_text(line.debit.amount - line.credit.amount),
                    options.tracking_name if tracked else "",
                    line.dimension,
                ]
            )
    return out.getvalue()


BILL_HEADER = [
    "*ContactName",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "Description",
    "*Quantity",
    "*UnitAmount",
    "*AccountCode",
    "*TaxType",
    "Currency",
]


def xero_bills_csv(bills: Iterable[APBill], settings: XeroSettings | None = None) -> str:
    """Xero's bill import CSV (Business → Bills to pay → Import): one row per bill line; for
    credit notes the same columns with the credit note's number (Xero's credit note import)."""
    options = settings or XeroSettings()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BILL_HEADER)
    for bill in bills:
        due = bill.due_date or bill.bill_date
        for line in bill.lines:
            writer.writerow(
                [
                    bill.vendor_name,
                    bill.bill_number,
                    bill.po_number,
                    f"{bill.bill_date:%d/%m/%Y}",
                    f"{due:%d/%m/%Y}",
                    line.description,
                    "1",
                    decimal_text(line.amount.amount),
                    account_code(line.account, options.account_codes),
                    options.tax_rate,
                    bill.currency,
                ]
            )
    return out.getvalue()
