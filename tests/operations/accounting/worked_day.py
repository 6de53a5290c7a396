"""A hand-worked business day: six checks covering every kind of journal line.

Worked on paper (cents):

- o1 dine-in: burger 1500 + 2 beers 1200 (happy hour −200), a voided burger 1500, tax 200,
  auto-gratuity 500; Visa 3200 + tip 400.
- o2 takeout: burger comped (remake, −1500) + beer 600, tax 48; cash 648.
- o3 DoorDash: 2 burgers 3000, facilitator tax 240 (DoorDash remits it); DoorDash pays 3240.
- o4 gift card sold 5000, paid cash 5000.
- o5 burger 1500, tax 120: gift card 1000 + Mastercard 620 + tip 100 (card fallback account).
- o6 beer 600, tax 48, cash 648, refunded in cash 648: the refund gives back the 48 of tax
  (Sales Tax Payable debit 48) and 600 of sales (Refunds).
- drawer: expected cash 648 + 5000 + 648 − 648 = 5648, counted 5600 → short 48.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from expediter.catalog.schema import Mappings
from expediter.model.money import Money
from expediter.model.order import (
    Comp,
    DiningOption,
    Discount,
    Line,
    LineKind,
    Order,
    OrderSource,
    OrderState,
    Payment,
    Refund,
    ServiceCharge,
    Tax,
    TenderType,
)
from expediter.operations.accounting.journal import DrawerCount

LOCATION = "bk1"
DAY = date(2026, 11, 27)
OPENED = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)

MAPPINGS = Mappings(
    category_accounts={"Burgers": "4000 Food Sales", "Beer": "4100 Beverage Sales"},
    discount_accounts={"Happy hour": "4900 Discounts"},
    tender_accounts={
        "visa": "1010 Visa Clearing",
        "card": "1011 Card Clearing",
        "cash": "1000 Cash",
        "doordash": "1020 DoorDash Clearing",
    },
    accounts={
        "sales_tax": "2100 Sales Tax Payable",
        "tips_payable": "2200 Tips Payable",
        "service_charges": "4500 Service Charges",
        "gift_cards": "2300 Gift Card Liability",
        "cash_over_short": "6900 Cash Over/Short",
        "comps": "4950 Comps",
        "refunds": "4960 Refunds",
    },
)

DRAWER = DrawerCount(location_id=LOCATION, business_date=DAY, counted_cash=Money(5600))

# (account, debit, credit, memo), as worked on paper.
EXPECTED_LINES: list[tuple[str, int, int, str]] = [
    ("1000 Cash", 6296, 0, "cash"),
    ("1010 Visa Clearing", 3600, 0, "card: visa"),
    ("1011 Card Clearing", 720, 0, "card: mastercard"),
    ("1020 DoorDash Clearing", 3000, 0, "marketplace: doordash"),
    ("2100 Sales Tax Payable", 48, 0, "sales tax refunded"),
    ("2300 Gift Card Liability", 1000, 0, "gift cards redeemed"),
    ("4900 Discounts", 200, 0, "discount: Happy hour"),
    ("4950 Comps", 1500, 0, "comp: Remake"),
    ("4960 Refunds", 600, 0, "refunds"),
    ("6900 Cash Over/Short", 48, 0, "cash short"),
    ("1000 Cash", 0, 48, "cash short"),
    ("1000 Cash", 0, 648, "refund: cash"),
    ("2100 Sales Tax Payable", 0, 416, "sales tax"),
    ("2200 Tips Payable", 0, 500, "card tips"),
    ("2300 Gift Card Liability", 0, 5000, "gift cards sold"),
    ("4000 Food Sales", 0, 7500, "sales: Burgers"),
    ("4100 Beverage Sales", 0, 2400, "sales: Beer"),
    ("4500 Service Charges", 0, 500, "auto-gratuity"),
]
TOTAL = 17012


def _burger(line_id: str, quantity: int = 1, **extra: object) -> Line:
    return Line(
        id=line_id,
        name="Classic burger",
        quantity=Decimal(quantity),
        unit_price=Money(1500),
        plu="1101",
        category="Burgers",
        **extra,  # type: ignore[arg-type]
    )


def _beer(line_id: str, quantity: int = 1, **extra: object) -> Line:
    return Line(
        id=line_id,
        name="Lager",
        quantity=Decimal(quantity),
        unit_price=Money(600),
        plu="2001",
        category="Beer",
        **extra,  # type: ignore[arg-type]
    )


def _order(order_id: str, lines: list[Line], **extra: object) -> Order:
    extra.setdefault("state", OrderState.COMPLETED)
    return Order(
        id=order_id,
        location_id=LOCATION,
        opened_at=OPENED,
        business_date=DAY,
        lines=lines,
        **extra,  # type: ignore[arg-type]
    )


def _tax(amount: int, facilitator: bool = False) -> list[Tax]:
    return [Tax(name="State tax", amount=Money(amount), marketplace_facilitator=facilitator)]


def worked_orders() -> list[Order]:
    happy_hour = Discount(name="Happy hour", reason="Happy hour", amount=Money(200))
    return [
        _order(
            "o1",
            [
                _burger("o1-1"),
                _beer("o1-2", 2, discounts=[happy_hour]),
                _burger("o1-3", voided=True, void_reason="rang in twice"),
            ],
            taxes=_tax(200),
            service_charges=[ServiceCharge(name="Party of 8", amount=Money(500), auto_gratuity=True)],
            payments=[
                Payment(
                    id="p1",
                    tender=TenderType.CARD,
                    amount=Money(3200),
                    tip=Money(400),
                    card_brand="Visa",
                    last4="4242",
                )
            ],
        ),
        _order(
            "o2",
            [_burger("o2-1", comp=Comp(reason="Remake", amount=Money(1500))), _beer("o2-2")],
            dining_option=DiningOption.TAKEOUT,
            taxes=_tax(48),
            payments=[Payment(id="p2", tender=TenderType.CASH, amount=Money(648))],
        ),
        _order(
            "o3",
            [_burger("o3-1", 2)],
            source=OrderSource.MARKETPLACE,
            dining_option=DiningOption.DELIVERY,
            taxes=_tax(240, facilitator=True),
            payments=[
                Payment(id="p3", tender=TenderType.MARKETPLACE, amount=Money(3240), marketplace="DoorDash")
            ],
        ),
        _order(
            "o4",
            [
                Line(
                    id="o4-1",
                    name="Gift card",
                    quantity=Decimal(1),
                    unit_price=Money(5000),
                    category="Gift Cards",
                    kind=LineKind.GIFT_CARD,
                )
            ],
            payments=[Payment(id="p4", tender=TenderType.CASH, amount=Money(5000))],
        ),
        _order(
            "o5",
            [_burger("o5-1")],
            taxes=_tax(120),
            payments=[
                Payment(id="p5a", tender=TenderType.GIFT_CARD, amount=Money(1000)),
                Payment(
                    id="p5b",
                    tender=TenderType.CARD,
                    amount=Money(620),
                    tip=Money(100),
                    card_brand="Mastercard",
                    last4="4444",
                ),
            ],
        ),
        _order(
            "o6",
            [_beer("o6-1")],
            taxes=_tax(48),
            payments=[Payment(id="p6", tender=TenderType.CASH, amount=Money(648))],
            refunds=[Refund(id="r6", amount=Money(648), reason="flat beer", payment_id="p6")],
        ),
    ]
