"""The vendor model: totals of invoices and credit memos, allowances and charges, catch weight."""

from datetime import date
from decimal import Decimal

import msgspec

from expediter.model.money import Money
from expediter.model.vendors import (
    AllowanceCharge,
    AllowanceOrCharge,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    ItemIds,
    POLine,
    PurchaseOrder,
    money_of,
)


def _line(number: str, amount: int, *extras: AllowanceCharge) -> InvoiceLine:
    return InvoiceLine(
        line_number=number,
        item=ItemIds(vendor_item=f"V{number}"),
        description="item",
        quantity=Decimal(1),
        unit="CA",
        unit_price=Decimal(amount) / 100,
        amount=Money(amount),
        allowances_charges=list(extras),
    )


def test_invoice_total_counts_line_and_header_adjustments_once() -> None:
    allowance = AllowanceCharge(kind=AllowanceOrCharge.ALLOWANCE, code="C310", amount=Money(100))
    fuel = AllowanceCharge(kind=AllowanceOrCharge.CHARGE, code="D240", amount=Money(250))
    info = AllowanceCharge(kind=AllowanceOrCharge.INFORMATION, code="B840", amount=Money(9999))
    invoice = Invoice(
        invoice_number="00123-A",
        invoice_date=date(2026, 3, 2),
        vendor="vendor",
        lines=[_line("1", 1000, allowance), _line("2", 500, info)],
        allowances_charges=[fuel],
        tax=Money(80),
    )
    assert invoice.lines_total() == Money(1400)
    assert invoice.computed_total() == Money(1730)
    assert invoice.amount_due() == Money(1730)
    assert invoice.signed_amount_due() == Money(1730)


def test_credit_memo_is_owed_back_and_keeps_its_number_as_written() -> None:
    memo = Invoice(
        invoice_number="000450",
        invoice_date=date(2026, 3, 3),
        vendor="vendor",
        kind=InvoiceKind.CREDIT_MEMO,
        lines=[_line("1", 1234)],
        stated_total=Money(1234),
    )
    decoded = msgspec.json.decode(msgspec.json.encode(memo), type=Invoice)
    assert decoded.invoice_number == "000450"
    assert decoded.signed_amount_due() == Money(-1234)


def test_money_of_rounds_half_to_even_and_po_total() -> None:
    assert money_of(Decimal("2.345")) == Money(234)
    assert money_of(Decimal("2.355")) == Money(236)
    po = PurchaseOrder(
        po_number="PO1",
        order_date=date(2026, 3, 1),
        vendor="vendor",
        location_id="main",
        lines=[
            POLine(
                line_number="1",
                item=ItemIds(vendor_item="A"),
                description="a",
                quantity=Decimal(3),
                unit="CA",
                unit_price=Decimal("9.25"),
            )
        ],
    )
    assert po.total() == Money(2775)
