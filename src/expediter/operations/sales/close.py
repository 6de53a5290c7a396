"""One pass over a day's orders builds both the sales summary and the product mix.

Orders arrive as an iterable (a 1,000-location night streams location by location); nothing but
running sums per key is kept, so memory follows the menu and the reasons, not the number of checks.
Amounts are summed as plain integers of minor units and turned into :class:`Money` at the end.

A refund counts on the business date it happened on (its ``created_at`` on the location's clock;
one without ``created_at`` stays on its order's date): :mod:`~expediter.operations.accounting.dating`.
So a day's orders may include an earlier day's order refunded that day; only its refunds count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from expediter.errors import RejectedInput
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import (
    Line,
    LineKind,
    Order,
    OrderState,
    TaxKind,
    TenderType,
    line_gross_minor,
    order_totals,
)
from expediter.model.sales import ProductMixRow, SalesSummary
from expediter.operations.accounting.dating import refunds_on, sale_date
from expediter.operations.accounting.journal import latest_versions
from expediter.operations.sales.allocation import largest_remainder

# Members read once: in Python 3.11 each ``Enum.MEMBER`` costs about 0.1 µs (measured), and the
# close reads several for every line of every check of a group's night.
_CANCELED = OrderState.CANCELED
_GIFT_CARD_LINE = LineKind.GIFT_CARD
_ITEM_LINE = LineKind.ITEM
_INCLUSIVE = TaxKind.INCLUSIVE
_CARD = TenderType.CARD
_MARKETPLACE = TenderType.MARKETPLACE


CHECK_DISCOUNT = "(check discount)"
"""Category and item of a check-level discount on a check without any item line to carry it."""


def _reason(reason: str, name: str) -> str:
    return reason or name or "unspecified"


class _Item:
    __slots__ = (
        "category",
        "comps",
        "discounts",
        "gross",
        "name",
        "plu",
        "quantity",
        "void_amount",
        "void_qty",
    )

    def __init__(self, line: Line) -> None:
        self.name, self.plu, self.category = line.name, line.plu or "", line.category
        self.quantity = self.void_qty = Decimal(0)
        self.gross = self.discounts = self.comps = self.void_amount = 0


class SalesDay:
    """Running sums of one location's business date. ``add`` each order, then read the results."""

    def __init__(self, location: Location, business_date: date) -> None:
        self.location = location
        self.business_date = business_date
        self.currency = location.currency
        self.counts: dict[str, int] = defaultdict(int)
        self.sums: dict[str, int] = defaultdict(int)
        self.by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.items: dict[str, _Item] = {}

    def belongs(self, order: Order) -> bool:
        """Is the order on this location's business date (computed when the sender left it out)?"""
        if order.location_id != self.location.id:
            return False
        return sale_date(order, self.location) == self.business_date

    def refunded_here(self, order: Order) -> bool:
        """Does an order of this location sold on another day carry a refund dated on this one?"""
        if order.location_id != self.location.id or order.state is _CANCELED:
            return False
        return bool(refunds_on(order, self.location, self.business_date))

    def _check_currency(self, order: Order) -> None:
        if order.currency != self.currency:
            raise RejectedInput(
                f"order {order.id} is in {order.currency}, location {self.location.id} in {self.currency}",
                where=f"order {order.id}.currency",
            )

    def add(self, order: Order) -> None:
        """Add a check sold on this day, with those of its refunds dated on this day."""
        self._check_currency(order)
        if order.state is _CANCELED:
            self.counts["canceled"] += 1
            self.sums["canceled"] += order_totals(order).total.amount
            return
        self.counts["checks"] += 1
        self.counts["guests"] += order.guest_count
        net = self._add_lines(order)
        self.by["dining_option"][str(order.dining_option)] += net
        self._add_taxes_and_charges(order)
        self._add_payments(order)
        self._add_refunds(order)

    def add_refunds(self, order: Order) -> None:
        """Add only the refunds dated on this day of a check sold on another day."""
        self._check_currency(order)
        self._add_refunds(order)

    def _add_refunds(self, order: Order) -> None:
        if not order.refunds:
            return
        refunds = refunds_on(order, self.location, self.business_date)
        self.counts["refunds"] += len(refunds)
        self.sums["refunds"] += sum(r.amount.amount for r in refunds)

    def _add_lines(self, order: Order) -> int:
        """Add the check's lines; returns its net sales. (Written for speed: it runs for every
        line of every check of a group's night; the sums of a check are added once.)"""
        sold: list[tuple[Line, int]] = []
        gross_sum = discount_sum = comp_sum = net_sum = 0
        by_category, items, currency = self.by["category"], self.items, self.currency
        for line in order.lines:
            gross = line_gross_minor(line, currency)
            if line.voided:
                self._add_void(line, gross)
                continue
            if line.kind is _GIFT_CARD_LINE:
                self.counts["gift_cards"] += 1
                self.sums["gift_cards"] += gross
                continue
            discounts = self._line_discounts(line) if line.discounts else 0
            comp = 0
            if line.comp is not None:
                comp = line.comp.amount.amount
                self.by["comp_reason"][_reason(line.comp.reason, "")] += comp
            key = line.item_id or line.plu or line.name
            item = items.get(key)
            if item is None:
                item = items[key] = _Item(line)
            item.quantity += line.quantity
            item.gross += gross
            item.discounts += discounts
            item.comps += comp
            net = gross - discounts - comp
            by_category[line.category] += net
            gross_sum += gross
            discount_sum += discounts
            comp_sum += comp
            net_sum += net
            sold.append((line, net))
        check_discount = 0
        if order.discounts:
            by_reason = self.by["discount_reason"]
            for discount in order.discounts:
                check_discount += discount.amount.amount
                by_reason[_reason(discount.reason, discount.name)] += discount.amount.amount
        sums = self.sums
        sums["gross"] += gross_sum
        sums["discounts"] += discount_sum + check_discount
        sums["comps"] += comp_sum
        self._allocate(check_discount, sold)
        return net_sum - check_discount

    def _line_discounts(self, line: Line) -> int:
        by_reason = self.by["discount_reason"]
        total = 0
        for discount in line.discounts:
            total += discount.amount.amount
            by_reason[_reason(discount.reason, discount.name)] += discount.amount.amount
        return total

    def _item(self, line: Line) -> _Item:
        key = line.item_id or line.plu or line.name
        item = self.items.get(key)
        if item is None:
            item = self.items[key] = _Item(line)
        return item

    def _add_void(self, line: Line, gross: int) -> None:
        self.counts["voids"] += 1
        self.sums["voids"] += gross
        if line.kind is _ITEM_LINE:
            item = self._item(line)
            item.void_qty += line.quantity
            item.void_amount += gross

    def _allocate(self, amount: int, sold: list[tuple[Line, int]]) -> None:
        """Spread a check-level discount over its lines in proportion to their positive net (else
        equally); a check with no item line at all books it on a pseudo item, so the product mix
        still adds up to net sales."""
        if not amount:
            return
        if not sold:
            sold = [(self._check_discount_line(), 0)]
        weights = [max(net, 0) for _, net in sold]
        if sum(weights) <= 0:
            weights = [1] * len(sold)
        for (line, _), share in zip(sold, largest_remainder(amount, weights), strict=True):
            self.by["category"][line.category] -= share
            self._item(line).discounts += share

    def _check_discount_line(self) -> Line:
        return Line(
            id=CHECK_DISCOUNT,
            item_id=CHECK_DISCOUNT,
            name=CHECK_DISCOUNT,
            category=CHECK_DISCOUNT,
            quantity=Decimal(0),
            unit_price=Money(0, self.currency),
        )

    def _add_taxes_and_charges(self, order: Order) -> None:
        for tax in order.taxes:
            kind = "tax_marketplace" if tax.marketplace_facilitator else "tax_restaurant"
            self.sums[kind] += tax.amount.amount
            if tax.kind is _INCLUSIVE:
                self.sums["tax_inclusive"] += tax.amount.amount
        for charge in order.service_charges:
            self.sums["auto_gratuity" if charge.auto_gratuity else "service_charges"] += charge.amount.amount

    def _add_payments(self, order: Order) -> None:
        for payment in order.payments:
            amount = payment.amount.amount
            self.sums["paid"] += amount
            self.by["tender"][str(payment.tender)] += amount
            if payment.tender is _CARD:
                self.by["card_brand"][payment.card_brand or "unknown"] += amount
                self.sums["card_tips"] += payment.tip.amount
            else:
                self.sums["other_tips"] += payment.tip.amount
            if payment.tender is _MARKETPLACE:
                self.by["marketplace"][payment.marketplace or "unknown"] += amount

    def _money(self, amount: int) -> Money:
        return Money(amount, self.currency)

    def _money_map(self, name: str) -> dict[str, Money]:
        return {key: self._money(value) for key, value in sorted(self.by[name].items())}

    def summary(self) -> SalesSummary:
        s, m = self.sums, self._money
        net = s["gross"] - s["discounts"] - s["comps"]
        total = (
            net
            + s["tax_restaurant"]
            + s["tax_marketplace"]
            - s["tax_inclusive"]
            + s["service_charges"]
            + s["auto_gratuity"]
            + s["gift_cards"]
        )
        return SalesSummary(
            location_id=self.location.id,
            business_date=self.business_date,
            currency=self.currency,
            checks=self.counts["checks"],
            guests=self.counts["guests"],
            gross_sales=m(s["gross"]),
            discounts=m(s["discounts"]),
            comps=m(s["comps"]),
            net_sales=m(net),
            net_sales_by_category=self._money_map("category"),
            net_sales_by_dining_option=self._money_map("dining_option"),
            discounts_by_reason=self._money_map("discount_reason"),
            comps_by_reason=self._money_map("comp_reason"),
            tax_restaurant=m(s["tax_restaurant"]),
            tax_marketplace_facilitator=m(s["tax_marketplace"]),
            tax_inclusive=m(s["tax_inclusive"]),
            service_charges=m(s["service_charges"]),
            auto_gratuity=m(s["auto_gratuity"]),
            gift_cards_sold=m(s["gift_cards"]),
            gift_cards_sold_count=self.counts["gift_cards"],
            total=m(total),
            card_tips=m(s["card_tips"]),
            other_tips=m(s["other_tips"]),
            paid=m(s["paid"]),
            tenders_by_type=self._money_map("tender"),
            tenders_by_card_brand=self._money_map("card_brand"),
            tenders_by_marketplace=self._money_map("marketplace"),
            void_count=self.counts["voids"],
            void_amount=m(s["voids"]),
            refund_count=self.counts["refunds"],
            refund_amount=m(s["refunds"]),
            canceled_checks=self.counts["canceled"],
            canceled_amount=m(s["canceled"]),
        )

    def product_mix(self) -> list[ProductMixRow]:
        m = self._money
        rows = [
            ProductMixRow(
                item_id=key,
                item_name=i.name,
                plu=i.plu,
                category=i.category,
                quantity=i.quantity,
                gross=m(i.gross),
                discounts=m(i.discounts),
                comps=m(i.comps),
                net=m(i.gross - i.discounts - i.comps),
                voided_quantity=i.void_qty,
                voided_amount=m(i.void_amount),
            )
            for key, i in self.items.items()
        ]
        rows.sort(key=lambda r: (r.category, r.item_name, r.item_id))
        return rows


def close_day(location: Location, business_date: date, orders: Iterable[Order]) -> SalesDay:
    """Feed every order of the location's business date, and the refunds dated on it of orders
    sold on other days (everything else is skipped).

    Versions of a check are collapsed to the highest wherever they appear in ``orders`` (the
    journal's :func:`latest_versions`), so ``[A v1, B, A v2]`` is two checks, as the journal counts.
    """
    day = SalesDay(location, business_date)
    for order in latest_versions(orders):
        if day.belongs(order):
            day.add(order)
        elif day.refunded_here(order):
            day.add_refunds(order)
    return day


def summarize_day(location: Location, business_date: date, orders: Iterable[Order]) -> SalesSummary:
    """The daily sales summary; pure: the same orders always give the same summary."""
    return close_day(location, business_date, orders).summary()


def product_mix(location: Location, business_date: date, orders: Iterable[Order]) -> list[ProductMixRow]:
    """Item-level sales of the day, sorted by category and name."""
    return close_day(location, business_date, orders).product_mix()
