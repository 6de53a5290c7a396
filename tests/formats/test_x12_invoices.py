"""810 credit memos and catch weight, 880 grocery invoices: the standard's segments, built here
because no vendor-written file of these was found under an open licence (see shared/fixtures)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from expediter.formats.x12 import Envelope, InMemoryControlNumbers, interchange, read_documents
from expediter.formats.x12.writer import segment, transaction
from expediter.model import clock as hub_clock
from expediter.model.money import Money
from expediter.model.vendors import AllowanceOrCharge, InvoiceKind, ItemIds, POLine, PurchaseOrder
from expediter.sim.distributor import Changes, distributor_file, invoice_810


def _file(code: str, functional_id: str, body: list[str]) -> str:
    text, _ = interchange(
        Envelope(sender_id="VENDOR", receiver_id="BISTRO"),
        functional_id,
        [transaction(code, "0001", body)],
        InMemoryControlNumbers(),
        hub_clock.now(),
    )
    return text


def test_810_credit_memo_with_its_original_invoice() -> None:
    body = [
        segment("BIG", "20260305", "CM-000123", "", "PO-7", "INV-0042", "", "CR"),
        segment("IT1", "1", "2", "CA", "28.45", "PE", "VN", "TOM25"),
        segment("PID", "F", "", "", "", "RETURNED TOMATOES"),
        segment("TDS", "5690"),
    ]
    invoice = read_documents(_file("810", "IN", body)).documents[0].invoice
    assert invoice is not None and invoice.kind is InvoiceKind.CREDIT_MEMO
    assert invoice.invoice_number == "CM-000123" and invoice.original_invoice == "INV-0042"
    assert invoice.amount_due() == Money(5690) and invoice.signed_amount_due() == Money(-5690)


def test_810_catch_weight_line_is_priced_by_the_pound() -> None:
    order = PurchaseOrder(
        po_number="PO-9",
        order_date=date(2026, 3, 2),
        vendor="v",
        location_id="main",
        lines=[
            POLine(
                line_number="1",
                item=ItemIds(vendor_item="BRISK"),
                description="BRISKET",
                quantity=Decimal(2),
                unit="CA",
                unit_price=Decimal("4.10"),
            )
        ],
    )
    data = distributor_file(
        [invoice_810(order, Changes(catch_weight={"1": Decimal("61.3")}), "W-1", date(2026, 3, 3))], "IN"
    )
    invoice = read_documents(data).documents[0].invoice
    assert invoice is not None
    (line,) = invoice.lines
    assert line.quantity == Decimal(2) and line.catch_weight == Decimal("61.3") and line.price_unit == "LB"
    assert line.amount == Money(25133) and invoice.stated_total == Money(25133)


def test_810_header_and_line_allowances_and_charges() -> None:
    body = [
        segment("BIG", "20260303", "A-7", "", "PO-1"),
        segment("IT1", "1", "10", "CA", "20.00", "PE", "VN", "X"),
        segment("SAC", "A", "C310", "", "", "500", "", "", "", "", "", "", "", "", "", "PROMO"),
        segment("TDS", "21000"),
        segment("SAC", "C", "D240", "", "", "1000", "", "", "", "", "", "", "", "", "", "FUEL"),
        segment("TXI", "ST", "5.00"),
    ]
    invoice = read_documents(_file("810", "IN", body)).documents[0].invoice
    assert invoice is not None
    assert invoice.lines[0].net() == Money(19500)
    (fuel,) = invoice.allowances_charges
    assert fuel.kind is AllowanceOrCharge.CHARGE and fuel.amount == Money(1000) and fuel.description == "FUEL"
    assert invoice.tax == Money(500)
    assert invoice.computed_total() == Money(21000) == invoice.stated_total


def test_880_grocery_invoice() -> None:
    body = [
        segment("G01", "20260303", "G-5501", "20260301", "PO-3"),
        segment("N1", "ST", "MAIN STREET BISTRO", "92", "main"),
        segment("G17", "12", "CA", "18.40", "007800001180", "VN", "SODA12"),
        segment("G69", "LEMON SODA 12CT"),
        segment("G72", "090", "02", "", "", "", "", "", "-600"),
        segment("G17", "4", "CA", "9.95", "", "VN", "CHIPS"),
        segment("G31", "16", "CA"),
        segment("G33", "25460"),
    ]
    read = read_documents(_file("880", "GP", body))
    assert read.errors == []
    invoice = read.documents[0].invoice
    assert invoice is not None and invoice.invoice_number == "G-5501" and invoice.po_number == "PO-3"
    first, second = invoice.lines
    assert first.item.upc == "007800001180" and first.item.vendor_item == "SODA12"
    assert first.description == "LEMON SODA 12CT" and first.net() == Money(22080 - 600)
    assert second.amount == Money(3980)
    assert invoice.stated_total == Money(25460) == invoice.computed_total()
    assert invoice.parties[0].id == "main"
