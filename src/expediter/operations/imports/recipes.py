"""Recipes: one row per component (``recipe, ingredient`` or ``sub_recipe``, ``quantity, unit``,
optionally ``plu``, ``yield``, ``batch_quantity``, ``batch_unit``), the columns of
``load_recipes_csv`` (docs/inventory.md).

Rows with one ``recipe`` are one recipe: a bad component quarantines the recipe whole (a recipe
missing a component would cost the plate low). With a recipe book named by the flow's systems,
ingredients must be in it. Committed recipes are inbox messages of kind ``recipes`` (ref the
recipe id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from expediter.errors import RejectedInput
from expediter.operations.imports.base import ImportContext, KeyRule, Parsed, Stored, Target, json_payload
from expediter.operations.imports.rows import Cells, Column
from expediter.operations.inventory.recipes import Component, Recipe
from expediter.operations.inventory.units import Unit, parse_unit

ONE = Decimal(1)


class RecipeRow(msgspec.Struct, frozen=True, kw_only=True):
    recipe: str
    component: Component
    plu: str | None = None
    batch_quantity: Decimal = ONE
    batch_unit: Unit = Unit.EACH


class Recipes:
    data: ClassVar[str] = "recipes"
    title: ClassVar[str] = "recipes"
    columns: ClassVar[tuple[Column, ...]] = (
        Column(name="recipe", description="the recipe id (a menu item's, or a sub-recipe's)"),
        Column(name="ingredient", required=False, description="an ingredient id, or"),
        Column(name="sub_recipe", required=False, description="a sub-recipe id"),
        Column(name="quantity"),
        Column(name="unit"),
        Column(name="plu", required=False),
        Column(name="yield", required=False, description="usable fraction, e.g. 0.8"),
        Column(name="batch_quantity", required=False, description="what one batch makes"),
        Column(name="batch_unit", required=False),
    )
    key_rule: ClassVar[KeyRule] = KeyRule.GROUP
    target: ClassVar[Target] = Target.INBOX
    record_type: ClassVar[type[msgspec.Struct]] = RecipeRow

    def __init__(self, context: ImportContext) -> None:
        self.context = context
        self._batches: dict[str, tuple[int, Decimal, Unit]] = {}

    def parse(self, cells: Cells) -> Parsed | None:
        recipe = cells.text("recipe", longest=64)
        ingredient, sub_recipe = cells.raw("ingredient"), cells.raw("sub_recipe")
        if bool(ingredient) == bool(sub_recipe):
            cells.problem("ingredient", "name an ingredient or a sub_recipe (one of the two)", "fill one")
        book = self.context.book
        if ingredient and book is not None and ingredient not in book.ingredients:
            cells.problem("ingredient", f"unknown ingredient {ingredient!r}", "use an id of the recipe book")
        quantity = cells.decimal("quantity")
        if quantity is not None and quantity <= 0:
            cells.problem("quantity", "must be more than 0", "write how much the recipe takes")
        unit = self._unit(cells, "unit", required=True)
        share = cells.decimal("yield", required=False) or ONE
        if not 0 < share <= 1:
            cells.problem("yield", f"{cells.raw('yield')!r} is not between 0 and 1", "e.g. 0.8 for 80 %")
        batch = cells.decimal("batch_quantity", required=False) or ONE
        batch_unit = self._unit(cells, "batch_unit", required=False) or Unit.EACH
        if recipe:
            self._same_batch(cells, recipe, batch, batch_unit)
        if cells.problems or quantity is None or unit is None:
            return None
        component = Component(
            quantity=quantity,
            unit=unit,
            ingredient=ingredient or None,
            recipe=sub_recipe or None,
            yield_=share,
        )
        row = RecipeRow(
            recipe=recipe,
            component=component,
            plu=cells.raw("plu") or None,
            batch_quantity=batch,
            batch_unit=batch_unit,
        )
        return Parsed(key=recipe, record=row)

    def _unit(self, cells: Cells, column: str, *, required: bool) -> Unit | None:
        text = cells.raw(column)
        if not text:
            if required:
                cells.problem(column, "is empty", "write a unit such as g, lb or each")
            return None
        try:
            return parse_unit(text)
        except RejectedInput as exc:
            cells.rejected(column, exc)
            return None

    def _same_batch(self, cells: Cells, recipe: str, batch: Decimal, unit: Unit) -> None:
        row, known, known_unit = self._batches.setdefault(recipe, (cells.number, batch, unit))
        if (known, known_unit) != (batch, unit):
            cells.problem(
                "batch_quantity", f"differs from row {row} of {recipe}", "one batch size per recipe"
            )

    def stored(self, groups: Iterable[tuple[str, Sequence[Any]]], earlier: str | None) -> list[Stored]:
        found = []
        for recipe_id, rows in groups:
            first = rows[0]
            recipe = Recipe(
                id=recipe_id,
                name=recipe_id,
                plu=next((row.plu for row in rows if row.plu), None),
                batch_quantity=first.batch_quantity,
                batch_unit=first.batch_unit,
                components=[row.component for row in rows],
            )
            found.append(
                Stored(kind="recipes", ref=recipe_id, payload=json_payload(recipe), location_id=None)
            )
        return found
