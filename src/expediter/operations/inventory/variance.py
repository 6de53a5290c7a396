"""Actual usage from counts, and the variance against what sales say was used.

``actual = opening count + received − closing count``. Variance is ``actual − theoretical``: a
positive variance is product that left the walk-in without a sale (waste, over-portioning, theft);
its cost is what the chef looks at first.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from expediter.model.money import Money
from expediter.operations.inventory.recipes import RecipeBook
from expediter.operations.inventory.units import Unit

ZERO = Decimal(0)


class VarianceLine(msgspec.Struct, kw_only=True):
    ingredient: str
    unit: Unit
    theoretical: Decimal
    actual: Decimal
    variance: Decimal
    unit_cost: Decimal
    variance_cost: Money


class VarianceReport(msgspec.Struct, kw_only=True):
    lines: list[VarianceLine]
    total_variance_cost: Money
    not_counted: list[str] = []
    """Ingredients sales used but nobody counted: no actual usage, so no variance for them."""


def actual_usage(
    opening: Mapping[str, Decimal], received: Mapping[str, Decimal], closing: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """Per ingredient counted at close: opening + received − closing."""
    return {k: opening.get(k, ZERO) + received.get(k, ZERO) - closing[k] for k in sorted(closing)}


def _cost(quantity: Decimal, unit_cost: Decimal, currency: str) -> Money:
    cents = (quantity * unit_cost * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return Money(int(cents), currency)


def variance_report(
    theoretical: Mapping[str, Decimal], actual: Mapping[str, Decimal], book: RecipeBook, currency: str = "USD"
) -> VarianceReport:
    lines = []
    for ingredient_id in sorted(actual):
        ingredient = book.ingredients[ingredient_id]
        used = theoretical.get(ingredient_id, ZERO)
        variance = actual[ingredient_id] - used
        lines.append(
            VarianceLine(
                ingredient=ingredient_id,
                unit=ingredient.unit,
                theoretical=used,
                actual=actual[ingredient_id],
                variance=variance,
                unit_cost=ingredient.unit_cost,
                variance_cost=_cost(variance, ingredient.unit_cost, currency),
            )
        )
    total = Money(sum(line.variance_cost.amount for line in lines), currency)
    missing = sorted(k for k, v in theoretical.items() if v and k not in actual)
    return VarianceReport(lines=lines, total_variance_cost=total, not_counted=missing)
