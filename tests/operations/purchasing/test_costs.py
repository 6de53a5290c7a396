"""Matched invoices set the ingredients' costs, in each ingredient's own unit, and usage uses them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from expediter.model.money import Money
from expediter.model.vendors import Invoice, InvoiceLine, ItemIds
from expediter.operations.inventory.recipes import book_from_data
from expediter.operations.purchasing import costs_from_invoice, match_invoice, with_costs
from tests.operations.purchasing.test_matching import ORDER

BOOK = book_from_data(
    {
        "ingredients": {
            "tomato": {"unit": "lb", "unit_cost": "0.90", "case_size": "25 lb"},
            "brisket": {"unit": "oz", "unit_cost": "0.20", "case_size": "15 lb"},
            "onion": {"unit": "each", "unit_cost": "0.30", "case_size": "50"},
        },
        "recipes": {},
    }
)


def test_costs_per_ingredient_unit_from_cases_and_catch_weight() -> None:
    lines = [
        InvoiceLine(
            line_number="1",
            item=ItemIds(vendor_item="TOM25"),
            description="t",
            quantity=Decimal(4),
            unit="CA",
            unit_price=Decimal("28.45"),
            amount=Money(11380),
        ),
        InvoiceLine(
            line_number="2",
            item=ItemIds(vendor_item="BRISK"),
            description="b",
            quantity=Decimal(2),
            unit="CA",
            unit_price=Decimal("4.10"),
            amount=Money(25133),
            catch_weight=Decimal("61.3"),
            price_unit="LB",
        ),
        InvoiceLine(
            line_number="3",
            item=ItemIds(vendor_item="ONION"),
            description="o",
            quantity=Decimal(1),
            unit="CA",
            unit_price=Decimal("19.00"),
            amount=Money(1900),
        ),
    ]
    invoice = Invoice(
        invoice_number="I-1", invoice_date=date(2026, 3, 3), vendor="vendor", po_number="PO-1", lines=lines
    )
    costs = {c.ingredient: c for c in costs_from_invoice(invoice, match_invoice(invoice, ORDER), BOOK)}
    assert costs["tomato"].unit_cost == Decimal("1.1380")  # 113.80 / (4 × 25 lb)
    assert costs["brisket"].unit_cost == Decimal("0.2562")  # 251.33 / (61.3 lb × 16 oz)
    assert costs["onion"].unit_cost == Decimal("0.3800")  # 19.00 / 50 each
    priced = with_costs(BOOK, costs)
    assert priced.ingredients["tomato"].unit_cost == Decimal("1.1380")
    assert BOOK.ingredients["tomato"].unit_cost == Decimal("0.90")
