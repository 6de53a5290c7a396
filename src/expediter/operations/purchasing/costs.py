"""Matched invoice lines → the latest cost of each ingredient, in the recipe book's own unit.

A line of 3 cases at $28.45 of tomatoes packed 25 lb a case costs 28.45 / 25 = $1.138 per lb; a
catch-weight line costs its amount over its weight (per lb, converted to the ingredient's unit).
Lines without an ingredient (unordered items, a PO line without one) change no cost.
"""

from __future__ import annotations

from decimal import Decimal

from expediter.errors import RejectedInput
from expediter.model.vendors import Invoice
from expediter.operations.inventory.recipes import Ingredient, RecipeBook
from expediter.operations.inventory.units import Unit, convert
from expediter.operations.purchasing.matching import LineMatch, MatchResult
from expediter.operations.purchasing.store import IngredientCost

CASE_UNITS = frozenset({"CA", "CS", "BX", "PK"})
WEIGHT_UNITS = {"LB": Unit.LB, "KG": Unit.KG, "OZ": Unit.OZ}
PLACES = Decimal("0.0001")


def _ingredient_units(line: LineMatch, ingredient: Ingredient) -> Decimal | None:
    """How many of the ingredient's units the line brought in."""
    try:
        if line.catch_weight is not None:
            return convert(line.catch_weight, Unit.LB, ingredient.unit, ingredient.case_size)
        if line.unit in CASE_UNITS:
            return convert(line.quantity, Unit.CASE, ingredient.unit, ingredient.case_size)
        if line.unit in WEIGHT_UNITS:
            return convert(line.quantity, WEIGHT_UNITS[line.unit], ingredient.unit, ingredient.case_size)
        if line.unit == "EA" and ingredient.unit is Unit.EACH:
            return line.quantity
    except RejectedInput:
        return None
    return None


def costs_from_invoice(invoice: Invoice, result: MatchResult, book: RecipeBook) -> list[IngredientCost]:
    costs = []
    for line in result.lines:
        ingredient = book.ingredients.get(line.ingredient)
        if ingredient is None or line.quantity <= 0:
            continue
        units = _ingredient_units(line, ingredient)
        if not units:
            continue
        unit_cost = (Decimal(line.amount.amount) / 100 / units).quantize(PLACES)
        costs.append(
            IngredientCost(
                ingredient=ingredient.id,
                unit=ingredient.unit.value,
                unit_cost=unit_cost,
                currency=invoice.currency,
                vendor=invoice.vendor,
                invoice_number=invoice.invoice_number,
                invoice_date=invoice.invoice_date,
            )
        )
    return costs


def with_costs(book: RecipeBook, costs: dict[str, IngredientCost]) -> RecipeBook:
    """The recipe book with each invoiced ingredient costed at its latest invoice price."""
    import msgspec

    ingredients = {
        key: msgspec.structs.replace(ing, unit_cost=costs[key].unit_cost) if key in costs else ing
        for key, ing in book.ingredients.items()
    }
    return RecipeBook(ingredients, book.recipes, book.modifiers, book.by_key)
