"""A matched invoice or credit memo → the AP bill the books receive.

One bill line per invoice line (booked to the purchases account, or the ingredient's account when
the catalog maps one), one per header allowance or charge, and one for tax, so the bill adds up
to exactly what the vendor says is owed.
"""

from __future__ import annotations

from collections.abc import Mapping

from expediter.model.money import Money
from expediter.model.vendors import APBill, BillKind, BillLine, Invoice, InvoiceKind
from expediter.operations.purchasing.matching import MatchResult

PURCHASES = "purchases"
ACCOUNTS_PAYABLE = "accounts_payable"
FREIGHT = "freight"


def _account(accounts: Mapping[str, str], key: str, default: str) -> str:
    return accounts.get(key, default)


def bill_for(
    invoice: Invoice, result: MatchResult, accounts: Mapping[str, str], vendor_name: str = ""
) -> APBill:
    purchases = _account(accounts, PURCHASES, "5000")
    by_line = {line.line_number: line for line in result.lines}
    lines = []
    for line in invoice.lines:
        ingredient = by_line[line.line_number].ingredient if line.line_number in by_line else ""
        account = _account(accounts, f"purchases.{ingredient}", purchases) if ingredient else purchases
        lines.append(
            BillLine(
                account=account,
                description=line.description or line.line_number,
                amount=line.net(),
                ingredient=ingredient,
            )
        )
    for ac in invoice.allowances_charges:
        if not ac.signed().is_zero():
            account = _account(accounts, FREIGHT, purchases) if ac.kind == "charge" else purchases
            lines.append(
                BillLine(account=account, description=f"{ac.kind} {ac.code}".strip(), amount=ac.signed())
            )
    if invoice.tax is not None and not invoice.tax.is_zero():
        lines.append(
            BillLine(
                account=_account(accounts, "purchase_tax", purchases), description="tax", amount=invoice.tax
            )
        )
    difference = invoice.amount_due() - sum_of(lines, invoice.currency)
    if not difference.is_zero():  # the vendor's stated total is what is owed; say where it differs
        lines.append(
            BillLine(account=purchases, description="difference to the stated total", amount=difference)
        )
    return APBill(
        vendor=invoice.vendor,
        vendor_name=vendor_name or invoice.vendor,
        bill_number=invoice.invoice_number,
        bill_date=invoice.invoice_date,
        lines=lines,
        payable_account=_account(accounts, ACCOUNTS_PAYABLE, "2000"),
        currency=invoice.currency,
        kind=BillKind.CREDIT if invoice.kind is InvoiceKind.CREDIT_MEMO else BillKind.BILL,
        due_date=invoice.due_date,
        po_number=invoice.po_number,
        memo=f"{invoice.kind.value} {invoice.invoice_number} PO {invoice.po_number or '-'}",
    )


def sum_of(lines: list[BillLine], currency: str) -> Money:
    result = Money(0, currency)
    for line in lines:
        result = result + line.amount
    return result
