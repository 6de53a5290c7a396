"""AP bills next to the journal: an accounting connector's exporter that writes both.

``ap_bill`` runs carry the bills in ``ExportRequest.extra["ap_bills"]`` (the vendor desk books
them once per vendor invoice number); every other data kind goes to the connector's journal
exporter unchanged. Each product's bill file is rendered by its own connector's ``formats``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from expediter.model.money import Money
from expediter.model.vendors import APBill

AP_BILL_DATA = "ap_bill"
AP_BILLS = "ap_bills"


class _Output(Protocol):
    name: str


class _Exporter(Protocol):
    def export(self, data: str, request: Any) -> list[Any]: ...


RenderBills = Callable[[list[APBill]], list[Any]]


class BillsAndJournal:
    def __init__(self, journal: _Exporter, bills: RenderBills) -> None:
        self.journal = journal
        self.bills = bills

    def export(self, data: str, request: Any) -> list[Any]:
        if data != AP_BILL_DATA:
            return self.journal.export(data, request)
        bills: list[APBill] = list(request.extra.get(AP_BILLS, []))
        return self.bills(bills) if bills else []


def major(money: Money) -> Decimal:
    """Minor units as a Decimal of the major unit (1234 → 12.34), exact."""
    return Decimal(money.amount).scaleb(-2)


def bill_file_stem(bill: APBill) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in bill.bill_number)
    return f"{bill.kind.value}_{bill.vendor}_{safe}"
