"""The daily sales summary and product mix of one location and business date, and their checks.

Definitions (the back office reads them this way, and :func:`reconciliation_errors` holds them):

- ``gross_sales``: item lines before discounts and comps; voided lines and gift cards excluded;
- ``net_sales = gross_sales - discounts - comps``; by category (order-level discounts allocated over
  the check's lines by largest remainder) and by dining option, each adding up to ``net_sales``;
- taxes split into restaurant-payable and marketplace-facilitator (remitted by the marketplace);
  ``tax_inclusive`` is the part of those already inside the prices, hence inside net sales;
- ``service_charges`` exclude auto-gratuity, which is its own figure (wages, not revenue to keep);
- ``total = net_sales + tax - tax_inclusive + service_charges + auto_gratuity + gift_cards_sold``,
  equal to the sum of :func:`~expediter.model.order.order_totals` of the checks, to the cent;
- tenders (tips excluded) by type add up to ``paid``; card brands to the card tender, marketplaces
  to the marketplace tender;
- refunds are reported, not netted out of sales (they happen after the sale, often another day);
  they count on the business date they happened on (``created_at`` on the location's clock; a
  refund without ``created_at`` stays on its order's date), so a day's refunds may belong to
  checks sold on an earlier day;
- canceled checks count apart and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import msgspec

from expediter.model.money import Money


class SalesSummary(msgspec.Struct, kw_only=True):
    location_id: str
    business_date: date
    currency: str
    checks: int
    guests: int
    gross_sales: Money
    discounts: Money
    comps: Money
    net_sales: Money
    net_sales_by_category: dict[str, Money]
    net_sales_by_dining_option: dict[str, Money]
    discounts_by_reason: dict[str, Money]
    comps_by_reason: dict[str, Money]
    tax_restaurant: Money
    tax_marketplace_facilitator: Money
    tax_inclusive: Money
    service_charges: Money
    auto_gratuity: Money
    gift_cards_sold: Money
    gift_cards_sold_count: int
    total: Money
    card_tips: Money
    other_tips: Money
    paid: Money
    tenders_by_type: dict[str, Money]
    tenders_by_card_brand: dict[str, Money]
    tenders_by_marketplace: dict[str, Money]
    void_count: int
    void_amount: Money
    refund_count: int
    refund_amount: Money
    canceled_checks: int
    canceled_amount: Money

    @property
    def tax(self) -> Money:
        return self.tax_restaurant + self.tax_marketplace_facilitator


class ProductMixRow(msgspec.Struct, kw_only=True):
    """One menu item's day. ``discounts`` include its share of check-level discounts."""

    item_id: str
    item_name: str
    plu: str
    category: str
    quantity: Decimal
    gross: Money
    discounts: Money
    comps: Money
    net: Money
    voided_quantity: Decimal
    voided_amount: Money


def _sum(amounts: Iterable[Money], currency: str) -> int:
    total = 0
    for amount in amounts:
        if amount.currency != currency:
            return -(10**18)  # cannot match: reported as a mismatch below
        total += amount.amount
    return total


def _check(errors: list[str], name: str, left: int, right: int) -> None:
    if left != right:
        errors.append(f"{name}: {left} != {right} (minor units)")


def reconciliation_errors(s: SalesSummary) -> list[str]:
    """Every identity the summary must satisfy that it does not; empty when it reconciles."""
    cur = s.currency
    errors: list[str] = []
    _check(
        errors,
        "net = gross - discounts - comps",
        s.net_sales.amount,
        s.gross_sales.amount - s.discounts.amount - s.comps.amount,
    )
    _check(errors, "net by category", _sum(s.net_sales_by_category.values(), cur), s.net_sales.amount)
    _check(
        errors, "net by dining option", _sum(s.net_sales_by_dining_option.values(), cur), s.net_sales.amount
    )
    _check(errors, "discounts by reason", _sum(s.discounts_by_reason.values(), cur), s.discounts.amount)
    _check(errors, "comps by reason", _sum(s.comps_by_reason.values(), cur), s.comps.amount)
    added = (
        s.net_sales.amount
        + s.tax.amount
        - s.tax_inclusive.amount
        + s.service_charges.amount
        + s.auto_gratuity.amount
        + s.gift_cards_sold.amount
    )
    _check(errors, "net + tax + service charges + gift cards = total", added, s.total.amount)
    _check(errors, "tenders by type = paid", _sum(s.tenders_by_type.values(), cur), s.paid.amount)
    card = s.tenders_by_type.get("card", Money(0, cur)).amount
    _check(errors, "card brands = card tender", _sum(s.tenders_by_card_brand.values(), cur), card)
    marketplace = s.tenders_by_type.get("marketplace", Money(0, cur)).amount
    _check(
        errors, "marketplaces = marketplace tender", _sum(s.tenders_by_marketplace.values(), cur), marketplace
    )
    return errors


def mix_errors(summary: SalesSummary, rows: Iterable[ProductMixRow]) -> list[str]:
    """The product mix must add up to the summary's gross, discounts, comps and net (voids are not
    compared: the summary's voids include voided gift-card lines, which are not menu items)."""
    rows = list(rows)
    cur = summary.currency
    errors: list[str] = []
    _check(errors, "mix gross", _sum((r.gross for r in rows), cur), summary.gross_sales.amount)
    _check(errors, "mix discounts", _sum((r.discounts for r in rows), cur), summary.discounts.amount)
    _check(errors, "mix comps", _sum((r.comps for r in rows), cur), summary.comps.amount)
    _check(errors, "mix net", _sum((r.net for r in rows), cur), summary.net_sales.amount)
    return errors


class ClosedDay(msgspec.Struct, kw_only=True):
    """One location's business date, closed: its sales summary and product mix, what the back-office
    files (the csv connector's ``sales_summary`` and ``product_mix``) carry."""

    summary: SalesSummary
    product_mix: list[ProductMixRow]
