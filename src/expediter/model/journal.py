"""A journal entry: the day's sales as balanced debit and credit lines, for the books.

:mod:`expediter.operations.accounting.journal` builds one entry per location and business date;
the accounting connectors (Beancount, QuickBooks, Xero, CSV) only write it in their product's shape.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum, StrEnum

import msgspec

from expediter.model.money import Money


class AccountRole(StrEnum):
    """What an account is to the books; exporters use it (e.g. beancount's root account)."""

    REVENUE = "revenue"
    CONTRA_REVENUE = "contra_revenue"
    LIABILITY = "liability"
    CLEARING = "clearing"
    RECEIVABLE = "receivable"
    OVER_SHORT = "over_short"


class Side(IntEnum):
    DEBIT = 0
    CREDIT = 1


class JournalLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line; exactly one of ``debit`` and ``credit`` is non-zero."""

    account: str
    debit: Money
    credit: Money
    memo: str = ""
    dimension: str = ""
    """E.g. the dining option, when revenue is split by it."""
    role: AccountRole = AccountRole.REVENUE


class JournalStatistics(msgspec.Struct, kw_only=True):
    """What the day held besides money posted: counts the bookkeeper asks about."""

    orders: int = 0
    canceled_orders: int = 0
    voided_lines: int = 0
    voided_amount: int = 0
    facilitator_tax_excluded: int = 0
    expected_cash: int = 0
    counted_cash: int | None = None
    refunds: int = 0
    refund_amount: int = 0
    earlier_sales_refunded: int = 0
    """Orders sold on an earlier business date whose refund is booked on this one."""
    refunded_tax: int = 0
    """Sales tax the day's refunds gave back (taken out of Sales Tax Payable)."""


class JournalEntry(msgspec.Struct, kw_only=True):
    location_id: str
    business_date: date
    document_number: str
    currency: str
    lines: list[JournalLine]
    memo: str = ""
    statistics: JournalStatistics = msgspec.field(default_factory=JournalStatistics)

    def total_debits(self) -> Money:
        return Money(sum(line.debit.amount for line in self.lines), self.currency)

    def total_credits(self) -> Money:
        return Money(sum(line.credit.amount for line in self.lines), self.currency)


__all__ = ["AccountRole", "JournalEntry", "JournalLine", "JournalStatistics", "Side"]
