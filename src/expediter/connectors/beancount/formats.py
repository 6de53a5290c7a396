"""Beancount text: ``open`` directives, then one transaction per journal entry.

Beancount account names are ``Root:Component`` where the root is one of the five account types and
each component starts with a capital letter or digit and holds letters, digits and dashes. A mapped
name such as ``4000 Food Sales`` becomes ``Income:4000-Food-Sales``; the root comes from what the
account is to the journal (its role) unless the settings name one. Debits are positive postings and
credits negative, so a balanced entry is a transaction beancount accepts.

The root of an account is, first, the one ``account_roots`` names; else its type in the catalog's
``[mappings.account_types]`` (an ``Auto-Gratuity Payable`` declared a liability lands under
``Liabilities`` whatever line it is on); else what the line is to the journal (its role).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from expediter.catalog.schema import AccountType
from expediter.connectors.beancount.config import BeancountSettings
from expediter.connectors.quickbooks.mapping import decimal_text
from expediter.model.journal import AccountRole, JournalEntry
from expediter.model.vendors import APBill, BillKind

ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses")
ROLE_ROOTS: dict[AccountRole, str] = {
    AccountRole.REVENUE: "Income",
    AccountRole.CONTRA_REVENUE: "Income",
    AccountRole.LIABILITY: "Liabilities",
    AccountRole.CLEARING: "Assets",
    AccountRole.RECEIVABLE: "Assets",
    AccountRole.OVER_SHORT: "Expenses",
}
TYPE_ROOTS: dict[AccountType, str] = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.INCOME: "Income",
    AccountType.EXPENSE: "Expenses",
}


def _component(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "X"
    return cleaned[0].upper() + cleaned[1:] if cleaned[0].isalpha() else cleaned


def beancount_account(account: str, root: str) -> str:
    """A valid beancount account name for ``account``; an already rooted name keeps its tree."""
    parts = [p for p in account.split(":") if p.strip()]
    if parts and parts[0] in ROOTS:
        root, parts = parts[0], parts[1:]
    return ":".join([root, *(_component(p) for p in parts or ["Unnamed"])])


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _accounts(
    entries: list[JournalEntry], settings: BeancountSettings, types: Mapping[str, AccountType]
) -> dict[str, str]:
    names: dict[str, str] = {}
    for entry in entries:
        for line in entry.lines:
            if line.account not in names:
                typed = TYPE_ROOTS[types[line.account]] if line.account in types else ROLE_ROOTS[line.role]
                root = settings.account_roots.get(line.account, typed)
                names[line.account] = beancount_account(line.account, root)
    return names


def _transaction(entry: JournalEntry, names: dict[str, str], payee: str) -> list[str]:
    rows = [
        f"{entry.business_date.isoformat()} * {_string(payee)} {_string(entry.memo)}",
        f"  document: {_string(entry.document_number)}",
        f"  location: {_string(entry.location_id)}",
    ]
    for line in entry.lines:
        amount = decimal_text(line.debit.amount - line.credit.amount)
        rows.append(f"  {names[line.account]}  {amount} {entry.currency}")
        memo = f"{line.memo} [{line.dimension}]" if line.dimension else line.memo
        rows.append(f"    memo: {_string(memo)}")
    return rows


def beancount_journal(
    entries: Iterable[JournalEntry],
    settings: BeancountSettings | None = None,
    account_types: Mapping[str, AccountType] | None = None,
) -> str:
    """A complete beancount file: the accounts it uses, opened, then the transactions."""
    options = settings or BeancountSettings()
    chosen = list(entries)
    names = _accounts(chosen, options, account_types or {})
    rows = [f"{options.open_date.isoformat()} open {name}" for name in sorted(set(names.values()))]
    for entry in chosen:
        rows.append("")
        rows.extend(_transaction(entry, names, options.payee))
    return "\n".join(rows) + "\n"


def beancount_bills(bills: Iterable[APBill], settings: BeancountSettings | None = None) -> str:
    """AP bills as beancount transactions: each line to its expense account, the total to the
    payable account (negated for a vendor credit), with the vendor's invoice number as metadata."""
    options = settings or BeancountSettings()
    chosen = list(bills)
    names: dict[str, str] = {}
    for bill in chosen:
        root_of = {bill.payable_account: "Liabilities"}
        for account in [bill.payable_account, *(line.account for line in bill.lines)]:
            root = options.account_roots.get(account, root_of.get(account, "Expenses"))
            names.setdefault(account, beancount_account(account, root))
    rows = [f"{options.open_date.isoformat()} open {name}" for name in sorted(set(names.values()))]
    for bill in chosen:
        sign = -1 if bill.kind is BillKind.CREDIT else 1
        rows += ["", f"{bill.bill_date.isoformat()} * {_string(bill.vendor_name)} {_string(bill.memo)}"]
        rows.append(f"  invoice: {_string(bill.bill_number)}")
        for line in bill.lines:
            rows.append(f"  {names[line.account]}  {decimal_text(sign * line.amount.amount)} {bill.currency}")
        rows.append(
            f"  {names[bill.payable_account]}  {decimal_text(-sign * bill.total().amount)} {bill.currency}"
        )
    return "\n".join(rows) + "\n"
