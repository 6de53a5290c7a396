"""A small kitchen worked by hand: recipe file, a day's sales, counts (numbers in the tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from expediter.model.money import Money
from expediter.model.order import Comp, Line, Modifier, ModifierAction, Order, OrderState

DAY = date(2026, 11, 27)
LOCATION = "bk1"

RECIPES_TOML = """
[ingredients.beef_patty]
unit = "each"
unit_cost = "1.25"
vendor = "sysco"
vendor_item = "SY-1001"
case_size = "40"
par = "100"
reorder_point = "60"

[ingredients.bun]
unit = "each"
unit_cost = "0.30"
vendor = "bakery"
case_size = "24"
par = "60"

[ingredients.onion]
name = "Onions"
unit = "lb"
unit_cost = "0.80"
vendor = "sysco"
case_size = "50 lb"
par = "20"
reorder_point = "10"

[ingredients.bacon]
unit = "lb"
unit_cost = "4.00"
vendor = "sysco"
case_size = "15 lb"
par = "10"

[ingredients.mayo]
unit = "l"
unit_cost = "3.00"

[ingredients.ketchup]
unit = "ml"
unit_cost = "0.004"

[ingredients.romaine]
unit = "kg"
unit_cost = "4.00"

# A sub-recipe: one batch makes 2 litres, used by burgers and salads.
[recipes.burger_sauce]
batch_quantity = "2"
batch_unit = "l"
components = [
  { ingredient = "mayo", quantity = "1.5", unit = "l" },
  { ingredient = "ketchup", quantity = "500", unit = "ml" },
]

[recipes.classic_burger]
plu = "1101"
components = [
  { ingredient = "beef_patty", quantity = "1", unit = "each" },
  { ingredient = "bun", quantity = 1, unit = "each" },
  { ingredient = "onion", quantity = "2", unit = "oz", yield = 0.8 },
  { recipe = "burger_sauce", quantity = "40", unit = "ml" },
]

[recipes.caesar]
item_id = "caesar-salad"
components = [
  { ingredient = "romaine", quantity = "150", unit = "g", yield = "0.75" },
  { recipe = "burger_sauce", quantity = "20", unit = "ml" },
]

[modifiers."extra bacon"]
components = [{ ingredient = "bacon", quantity = "2", unit = "oz" }]
"""

OPENED = datetime(2026, 11, 27, 19, tzinfo=UTC)


def _line(line_id: str, quantity: int = 1, **extra: object) -> Line:
    fields: dict[str, object] = {"name": "Classic burger", "plu": "1101", "category": "Burgers", **extra}
    return Line(id=line_id, quantity=Decimal(quantity), unit_price=Money(1500), **fields)  # type: ignore[arg-type]


def sales() -> list[Order]:
    extra_bacon = Modifier(name="Extra bacon", action=ModifierAction.ADD, unit_price=Money(200))
    no_onions = Modifier(name="No onions", action=ModifierAction.REMOVE)
    lines = [
        _line("a", 3),
        _line("b", modifiers=[extra_bacon, no_onions]),
        _line("c", 2, voided=True),
        _line("d", comp=Comp(reason="remake", amount=Money(1500))),
        _line("e", 2, name="Caesar", plu=None, item_id="caesar-salad", category="Salads"),
        _line("f", name="Mystery special", plu="9999", category="Specials"),
        _line(
            "g",
            modifiers=[
                Modifier(name="Medium rare"),
                Modifier(name="on the side", action=ModifierAction.NOTE),
            ],
        ),
    ]
    return [
        Order(
            id=f"o-{line.id}",
            location_id=LOCATION,
            opened_at=OPENED,
            lines=[line],
            state=OrderState.COMPLETED,
        )
        for line in lines
    ]
