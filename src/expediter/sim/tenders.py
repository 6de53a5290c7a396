"""Pricing and paying a simulated check: discounts, tax, auto-gratuity, tenders, tips and refunds.

The arithmetic is done on integer cents here and checked against
:func:`expediter.model.order.order_totals` by the tests, so a drift between the two is caught.
Tenders always add up to the check's total (tips on top), as a closed check does in a real POS.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from expediter.model.money import Money
from expediter.model.order import (
    Discount,
    Line,
    LineKind,
    Payment,
    Refund,
    ServiceCharge,
    Tax,
    TaxKind,
    TenderType,
)
from expediter.sim.checks import gross_cents
from expediter.sim.config import (
    CARD_BRAND_WEIGHTS,
    CARD_BRANDS,
    REFUND_REASONS,
    CheckKind,
    SimConfig,
)


def rounded(cents: int, factor: Decimal) -> int:
    """``cents × factor`` rounded half to even to a whole cent."""
    return int((Decimal(cents) * factor).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def net_cents(lines: list[Line], order_discounts: list[Discount]) -> int:
    """Gross of sold item lines less their discounts and comps, less order-level discounts."""
    net = 0
    for line in lines:
        if line.voided or line.kind is not LineKind.ITEM:
            continue
        net += gross_cents(line) - sum(d.amount.amount for d in line.discounts)
        if line.comp is not None:
            net -= line.comp.amount.amount
    return net - sum(d.amount.amount for d in order_discounts)


def gift_card_cents(lines: list[Line]) -> int:
    return sum(gross_cents(line) for line in lines if not line.voided and line.kind is LineKind.GIFT_CARD)


def employee_discount(lines: list[Line], config: SimConfig, currency: str) -> Discount:
    """Staff eat at half price: an order-level discount on what is left after comps."""
    amount = rounded(net_cents(lines, []), config.employee_discount)
    percent = int(config.employee_discount * 100)
    return Discount(name=f"Employee {percent}%", amount=Money(amount, currency), reason="employee meal")


class Charges(msgspec.Struct, kw_only=True):
    """What a check adds up to, in cents, with the tax and service charge lines to put on it."""

    net: int
    total: int
    taxes: list[Tax]
    service_charges: list[ServiceCharge]


def price_check(
    lines: list[Line],
    discounts: list[Discount],
    *,
    config: SimConfig,
    guests: int,
    kind: CheckKind,
    currency: str,
) -> Charges:
    """Tax on net sales (per check, half-even), auto-gratuity for large tables (not taxed)."""
    net = net_cents(lines, discounts)
    charges: list[ServiceCharge] = []
    if kind is CheckKind.TABLE and guests >= config.auto_gratuity_party and net > 0:
        percent = int(config.auto_gratuity_rate * 100)
        charges.append(
            ServiceCharge(
                name=f"Auto Gratuity {percent}%",
                amount=Money(rounded(net, config.auto_gratuity_rate), currency),
                auto_gratuity=True,
            )
        )
    tax = Tax(
        name=config.tax_name,
        amount=Money(rounded(net, config.tax_rate), currency),
        kind=TaxKind.ADDITIVE,
        rate=config.tax_rate,
        marketplace_facilitator=kind is CheckKind.MARKETPLACE,
    )
    total = net + tax.amount.amount + sum(c.amount.amount for c in charges) + gift_card_cents(lines)
    return Charges(net=net, total=total, taxes=[tax], service_charges=charges)


class Till:
    """Makes the payments of one check: ids, card brands, last four digits and tips."""

    def __init__(self, rng: random.Random, order_id: str, currency: str, at: datetime) -> None:
        self.rng = rng
        self.order_id = order_id
        self.currency = currency
        self.at = at
        self.payments: list[Payment] = []

    def _add(self, tender: TenderType, amount: int, tip: int = 0, **extra: str) -> None:
        self.payments.append(
            Payment(
                id=f"{self.order_id}-P{len(self.payments) + 1}",
                tender=tender,
                amount=Money(amount, self.currency),
                tip=Money(tip, self.currency),
                created_at=self.at,
                **extra,
            )
        )

    def card(self, amount: int, tip: int) -> None:
        brand = self.rng.choices(CARD_BRANDS, CARD_BRAND_WEIGHTS)[0]
        self._add(TenderType.CARD, amount, tip, card_brand=brand, last4=f"{self.rng.randrange(10000):04d}")

    def cash(self, amount: int) -> None:
        """Cash tips are not rung on the check; staff declare them on their punch."""
        self._add(TenderType.CASH, amount)

    def gift_card(self, amount: int) -> None:
        self._add(TenderType.GIFT_CARD, amount, last4=f"{self.rng.randrange(10000):04d}")

    def marketplace(self, amount: int, name: str) -> None:
        self._add(TenderType.MARKETPLACE, amount, marketplace=name)

    def tip_on(self, net: int, low: float, high: float) -> int:
        """A percentage of pre-tax sales, rounded to a quarter the way guests write it."""
        cents = int(net * self.rng.uniform(low, high))
        return max(0, cents // 25 * 25)


def _dine_in(till: Till, total: int, net: int, auto_gratuity: bool) -> None:
    low, high = (0.0, 0.04) if auto_gratuity else (0.15, 0.25)
    roll = till.rng.random()
    if roll < 0.62:
        till.card(total, till.tip_on(net, low, high))
    elif roll < 0.78:
        till.cash(total)
    elif roll < 0.88:
        cash = min(total, till.rng.randint(1, 4) * 2000)
        till.cash(cash)
        if total > cash:
            till.card(total - cash, till.tip_on(net * (total - cash) // total, low, high))
    elif roll < 0.96:
        first = total // 2
        till.card(first, till.tip_on(net // 2, low, high))
        till.card(total - first, till.tip_on(net - net // 2, low, high))
    else:
        balance = min(total, till.rng.choice((2500, 5000, 10000)))
        till.gift_card(balance)
        if total > balance:
            till.card(total - balance, till.tip_on(net * (total - balance) // total, low, high))


def pay(
    rng: random.Random,
    *,
    order_id: str,
    kind: CheckKind,
    charges: Charges,
    at: datetime,
    currency: str,
    marketplace: str | None = None,
) -> list[Payment]:
    """Tenders summing exactly to ``charges.total`` (nothing to pay on a fully comped check)."""
    till = Till(rng, order_id, currency, at)
    total, net = charges.total, charges.net
    if total <= 0:
        return []
    if kind is CheckKind.MARKETPLACE:
        till.marketplace(total, marketplace or "marketplace")
    elif kind is CheckKind.ONLINE:
        till.card(total, till.tip_on(net, 0.0, 0.18) if rng.random() < 0.5 else 0)
    elif kind is CheckKind.TAKEOUT:
        if rng.random() < 0.75:
            till.card(total, till.tip_on(net, 0.0, 0.15))
        else:
            till.cash(total)
    else:
        _dine_in(till, total, net, bool(charges.service_charges))
    return till.payments


def refund_one(
    rng: random.Random, order_id: str, lines: list[Line], payments: list[Payment], config: SimConfig
) -> list[Refund]:
    """Return one item (its price after discounts, plus its tax) to the first card paid."""
    cards = [p for p in payments if p.tender is TenderType.CARD]
    items = [line for line in lines if line.kind is LineKind.ITEM and not line.voided and line.comp is None]
    if not cards or not items or payments[0].created_at is None:
        return []
    line = rng.choice(items)
    price = gross_cents(line) - sum(d.amount.amount for d in line.discounts)
    amount = min(price + rounded(price, config.tax_rate), cards[0].amount.amount)
    return [
        Refund(
            id=f"{order_id}-R1",
            amount=Money(amount, cards[0].amount.currency),
            reason=rng.choice(REFUND_REASONS),
            payment_id=cards[0].id,
            line_ids=[line.id],
            created_at=payments[0].created_at + timedelta(minutes=rng.randint(15, 120)),
        )
    ]
