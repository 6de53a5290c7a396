"""Recipes: what a menu item and its modifiers take out of the walk-in.

A recipe lists components; a component is an ingredient or a **sub-recipe** (a sauce made in a
batch and used by several items). A component's ``yield`` is the usable fraction after trimming
(0.8 → 1 / 0.8 = 1.25 times as much raw product is used). A modifier recipe **adds** components
(extra bacon) and/or **removes** ingredients from the base recipe ("no onions"). Everything is
resolved to each ingredient's own counting unit, in Decimal.

Recipes load from TOML (:func:`load_recipe_book`) or CSV (:func:`load_recipes_csv`); the file
format is in ``docs/inventory.md``. ``[mappings.plu_recipes]`` in ``expediter.toml`` can point more
PLUs at recipes (:meth:`RecipeBook.with_plu_mappings`).
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

import msgspec

from expediter.errors import RejectedInput
from expediter.operations.inventory.units import CaseSize, Unit, convert, parse_unit

ONE = Decimal(1)


class Ingredient(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    unit: Unit
    """The unit it is counted and costed in."""
    name: str = ""
    unit_cost: Decimal = Decimal(0)
    """Cost of one ``unit``, in the currency's major unit (e.g. 0.45 USD per lb)."""
    currency: str = "USD"
    vendor: str = ""
    vendor_item: str = ""
    case_size: CaseSize | None = None
    par: Decimal | None = None
    """Stock to order up to."""
    reorder_point: Decimal | None = None
    """Order when on hand falls to or below this (defaults to par)."""


class Component(msgspec.Struct, kw_only=True, frozen=True):
    quantity: Decimal
    unit: Unit
    ingredient: str | None = None
    recipe: str | None = None
    yield_: Decimal = ONE

    @property
    def target(self) -> str:
        return self.ingredient or self.recipe or ""


class Recipe(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    components: list[Component]
    name: str = ""
    plu: str | None = None
    item_id: str | None = None
    batch_quantity: Decimal = ONE
    batch_unit: Unit = Unit.EACH
    """What one batch makes (a sub-recipe: ``1 l`` of sauce); items make ``1 each``."""


class ModifierRecipe(msgspec.Struct, kw_only=True, frozen=True):
    key: str
    """Matches a modifier's PLU, id or name (case-insensitive)."""
    components: list[Component] = []
    removes: list[str] = []
    """Ingredient ids taken out of the base recipe."""


Usage = dict[str, Decimal]


class RecipeBook:
    """Ingredients, recipes and modifier recipes, checked for dangling references and cycles."""

    def __init__(
        self,
        ingredients: Mapping[str, Ingredient],
        recipes: Mapping[str, Recipe],
        modifiers: Mapping[str, ModifierRecipe] | None = None,
        plu_recipes: Mapping[str, str] | None = None,
    ) -> None:
        self.ingredients = dict(ingredients)
        self.recipes = dict(recipes)
        self.modifiers = {k.lower(): m for k, m in (modifiers or {}).items()}
        self.by_key: dict[str, str] = {}
        for recipe in self.recipes.values():
            for key in (recipe.plu, recipe.item_id, recipe.id):
                if key:
                    self.by_key.setdefault(key, recipe.id)
        self.by_key.update(plu_recipes or {})
        self._names = self._name_index(self.ingredients.values())
        self._validate()
        self.per_unit = cache(self._per_unit)

    def with_plu_mappings(self, plu_recipes: Mapping[str, str]) -> RecipeBook:
        """The same book with ``[mappings.plu_recipes]`` added (PLU → recipe id)."""
        return RecipeBook(self.ingredients, self.recipes, self.modifiers, {**self.by_key, **plu_recipes})

    @staticmethod
    def _plain(name: str) -> str:
        return name.strip().lower().replace("_", " ")

    @classmethod
    def _forms(cls, name: str) -> list[str]:
        """The name as written, then without a plural "-es" ("tomatoes"), then without "-s"."""
        text = cls._plain(name)
        forms = [text]
        if text.endswith("es"):
            forms.append(text[:-2])
        if text.endswith("s"):
            forms.append(text[:-1])
        return forms

    @classmethod
    def _name_index(cls, ingredients: Iterable[Ingredient]) -> dict[str, str]:
        """Every form of every ingredient's id and name → id; exact spellings win over stems."""
        listed = list(ingredients)
        index: dict[str, str] = {}
        for depth in range(3):
            for ingredient in listed:
                for name in (ingredient.id, ingredient.name or ingredient.id):
                    forms = cls._forms(name)
                    if depth < len(forms):
                        index.setdefault(forms[depth], ingredient.id)
        return index

    def _validate(self) -> None:
        for key, recipe_id in self.by_key.items():
            if recipe_id not in self.recipes:
                raise RejectedInput(
                    f"PLU {key!r} points at unknown recipe {recipe_id!r}", where="plu_recipes"
                )
        for ingredient in self.ingredients.values():
            self._check_case_size(ingredient)
        for recipe in self.recipes.values():
            if recipe.batch_quantity <= 0:
                raise RejectedInput(
                    f"recipe {recipe.id!r} makes a batch of {recipe.batch_quantity}",
                    where=f"recipes.{recipe.id}.batch_quantity",
                    fix="give what one batch makes, above zero (e.g. 2 with batch_unit = 'l')",
                )
            for index, component in enumerate(recipe.components):
                self._check_component(component, f"recipes.{recipe.id}.components[{index}]")
            self._check_cycle(recipe.id, ())
        for modifier in self.modifiers.values():
            for index, component in enumerate(modifier.components):
                self._check_component(component, f"modifiers.{modifier.key}.components[{index}]")
            for removed in modifier.removes:
                if removed not in self.ingredients:
                    raise RejectedInput(
                        f"unknown ingredient {removed!r}", where=f"modifiers.{modifier.key}.removes"
                    )

    @staticmethod
    def _check_case_size(ingredient: Ingredient) -> None:
        """A case holds more than nothing, in a unit that converts to the ingredient's own unit
        (purchase orders turn the par into cases through it)."""
        case = ingredient.case_size
        if case is None:
            return
        where = f"ingredients.{ingredient.id}.case_size"
        if case.quantity <= 0:
            raise RejectedInput(
                f"ingredient {ingredient.id!r} has a case size of {case.quantity}",
                where=where,
                fix="give what one case holds, above zero (e.g. '25 lb')",
            )
        if ingredient.unit is not Unit.CASE:
            convert(ONE, case.unit, ingredient.unit, what=where)

    def _check_component(self, component: Component, where: str) -> None:
        if component.quantity < 0:
            raise RejectedInput(
                f"component quantity {component.quantity} is negative",
                where=f"{where}.quantity",
                fix="give the quantity used, zero or more",
            )
        if (component.ingredient is None) == (component.recipe is None):
            raise RejectedInput(
                "a component names an ingredient or a recipe", where=where, fix="give exactly one"
            )
        if component.ingredient is not None and component.ingredient not in self.ingredients:
            raise RejectedInput(f"unknown ingredient {component.ingredient!r}", where=where, fix="declare it")
        if component.recipe is not None and component.recipe not in self.recipes:
            raise RejectedInput(f"unknown recipe {component.recipe!r}", where=where, fix="declare it")
        if component.yield_ <= 0 or component.yield_ > 1:
            raise RejectedInput("yield must be above 0 and at most 1", where=f"{where}.yield", fix="e.g. 0.8")
        if component.ingredient is not None:
            ingredient = self.ingredients[component.ingredient]
            convert(ONE, component.unit, ingredient.unit, ingredient.case_size, where)
        else:
            sub = self.recipes[component.target]
            convert(ONE, component.unit, sub.batch_unit, what=where)

    def _check_cycle(self, recipe_id: str, path: tuple[str, ...]) -> None:
        if recipe_id in path:
            raise RejectedInput(
                f"recipe cycle {' → '.join((*path, recipe_id))}", where=f"recipes.{recipe_id}"
            )
        for component in self.recipes[recipe_id].components:
            if component.recipe is not None:
                self._check_cycle(component.recipe, (*path, recipe_id))

    def recipe_key(self, plu: str | None, item_id: str | None) -> str | None:
        """The recipe id for a sold line, by PLU first, then item id; ``None`` if there is none."""
        for key in (plu, item_id):
            if key and key in self.by_key:
                return self.by_key[key]
        return None

    def modifier(self, keys: tuple[str | None, ...]) -> ModifierRecipe | None:
        return next((self.modifiers[k.lower()] for k in keys if k and k.lower() in self.modifiers), None)

    def ingredient_named(self, modifier_name: str) -> str | None:
        """ "No onions" → ``onion``: a removal modifier without a recipe, matched by ingredient name."""
        text = modifier_name.strip().lower()
        for prefix in ("no ", "without ", "hold the ", "hold "):
            if text.startswith(prefix):
                text = text[len(prefix) :]
                break
        return next((self._names[form] for form in self._forms(text) if form in self._names), None)

    def components_usage(
        self, components: list[Component], times: Decimal = ONE, skip: frozenset[str] = frozenset()
    ) -> Usage:
        """Raw ingredient quantities (each in its own unit) for ``times`` the components."""
        usage: Usage = {}
        for component in components:
            if component.ingredient in skip:
                continue
            for ingredient, amount in self._component_usage(component).items():
                usage[ingredient] = usage.get(ingredient, Decimal(0)) + amount * times
        return usage

    def _component_usage(self, component: Component) -> Usage:
        if component.ingredient is not None:
            ingredient = self.ingredients[component.ingredient]
            amount = convert(
                component.quantity, component.unit, ingredient.unit, ingredient.case_size, ingredient.id
            )
            return {ingredient.id: amount / component.yield_}
        sub = self.recipes[component.target]
        batches = (
            convert(component.quantity, component.unit, sub.batch_unit, what=sub.id) / sub.batch_quantity
        )
        return self.components_usage(sub.components, batches / component.yield_)

    def _per_unit(self, recipe_id: str, removed: frozenset[str] = frozenset()) -> Usage:
        """One unit of an item; ``removed`` ingredients are left out of its own (direct) components."""
        recipe = self.recipes[recipe_id]
        return self.components_usage(recipe.components, ONE / recipe.batch_quantity, removed)


class _IngredientFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    unit: str
    name: str = ""
    unit_cost: Decimal = Decimal(0)
    currency: str = "USD"
    vendor: str = ""
    vendor_item: str = ""
    case_size: str | None = None
    par: Decimal | None = None
    reorder_point: Decimal | None = None


class _ComponentFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename={"yield_": "yield"}):
    quantity: Decimal
    unit: str
    ingredient: str | None = None
    recipe: str | None = None
    yield_: Decimal = ONE


class _RecipeFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    components: list[_ComponentFile]
    name: str = ""
    plu: str | None = None
    item_id: str | None = None
    batch_quantity: Decimal = ONE
    batch_unit: str = "each"


class _ModifierFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    components: list[_ComponentFile] = []
    removes: list[str] = []


class _BookFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    ingredients: dict[str, _IngredientFile] = {}
    recipes: dict[str, _RecipeFile] = {}
    modifiers: dict[str, _ModifierFile] = {}


def parse_case_size(text: str, default_unit: Unit, where: str) -> CaseSize:
    """``"25 lb"`` or ``"96"`` (in the ingredient's unit)."""
    amount, _, unit = text.strip().partition(" ")
    try:
        quantity = Decimal(amount)
    except ArithmeticError as exc:
        raise RejectedInput(f"bad case size {text!r}", where=where, fix="e.g. '25 lb' or '96'") from exc
    return CaseSize(quantity=quantity, unit=parse_unit(unit, where) if unit else default_unit)


def _component(raw: _ComponentFile, where: str) -> Component:
    return Component(
        quantity=raw.quantity,
        unit=parse_unit(raw.unit, f"{where}.unit"),
        ingredient=raw.ingredient,
        recipe=raw.recipe,
        yield_=raw.yield_,
    )


def _ingredient(key: str, raw: _IngredientFile) -> Ingredient:
    unit = parse_unit(raw.unit, f"ingredients.{key}.unit")
    case = parse_case_size(raw.case_size, unit, f"ingredients.{key}.case_size") if raw.case_size else None
    return Ingredient(
        id=key,
        unit=unit,
        name=raw.name or key,
        unit_cost=raw.unit_cost,
        currency=raw.currency,
        vendor=raw.vendor,
        vendor_item=raw.vendor_item,
        case_size=case,
        par=raw.par,
        reorder_point=raw.reorder_point,
    )


def _recipe(key: str, raw: _RecipeFile) -> Recipe:
    where = f"recipes.{key}"
    return Recipe(
        id=key,
        name=raw.name or key,
        plu=raw.plu,
        item_id=raw.item_id,
        batch_quantity=raw.batch_quantity,
        batch_unit=parse_unit(raw.batch_unit, f"{where}.batch_unit"),
        components=[_component(c, f"{where}.components[{i}]") for i, c in enumerate(raw.components)],
    )


def book_from_data(data: Mapping[str, Any], plu_recipes: Mapping[str, str] | None = None) -> RecipeBook:
    try:
        parsed = msgspec.convert(data, _BookFile, strict=False)
    except msgspec.ValidationError as exc:
        raise RejectedInput(f"recipe file: {exc}", fix="see docs/inventory.md for the format") from exc
    modifiers = {
        key: ModifierRecipe(
            key=key,
            components=[
                _component(c, f"modifiers.{key}.components[{i}]") for i, c in enumerate(raw.components)
            ],
            removes=raw.removes,
        )
        for key, raw in parsed.modifiers.items()
    }
    return RecipeBook(
        {k: _ingredient(k, v) for k, v in parsed.ingredients.items()},
        {k: _recipe(k, v) for k, v in parsed.recipes.items()},
        modifiers,
        plu_recipes,
    )


def load_recipe_book(text: str, plu_recipes: Mapping[str, str] | None = None) -> RecipeBook:
    """A recipe book from TOML text (``[ingredients.*]``, ``[recipes.*]``, ``[modifiers.*]``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RejectedInput(f"recipe file is not valid TOML: {exc}") from exc
    return book_from_data(data, plu_recipes)


CSV_COLUMNS = (
    "recipe",
    "plu",
    "ingredient",
    "sub_recipe",
    "quantity",
    "unit",
    "yield",
    "batch_quantity",
    "batch_unit",
)


def load_recipes_csv(
    text: str, ingredients: Mapping[str, Ingredient], base: RecipeBook | None = None
) -> RecipeBook:
    """Recipes from CSV, one component per row (columns :data:`CSV_COLUMNS`; the last four optional)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    missing = [c for c in CSV_COLUMNS[:6] if rows and c not in rows[0]]
    if missing or not rows:
        raise RejectedInput(
            f"recipe CSV lacks columns {missing or list(CSV_COLUMNS[:6])}", where="row 1", fix="add them"
        )
    data: dict[str, dict[str, Any]] = {}
    for row in rows:
        recipe = data.setdefault(row["recipe"].strip(), {"components": []})
        for column in ("plu", "batch_quantity", "batch_unit"):
            if (row.get(column) or "").strip():
                recipe[column] = row[column].strip()
        component = {"quantity": row["quantity"].strip(), "unit": row["unit"].strip()}
        if (row.get("yield") or "").strip():
            component["yield"] = row["yield"].strip()
        target = "ingredient" if (row.get("ingredient") or "").strip() else "recipe"
        component[target] = (row["ingredient"] or row["sub_recipe"] or "").strip()
        recipe["components"].append(component)
    try:
        parsed = msgspec.convert({"recipes": data}, _BookFile, strict=False)
    except msgspec.ValidationError as exc:
        raise RejectedInput(f"recipe CSV: {exc}", fix="see docs/inventory.md for the format") from exc
    recipes = {**(base.recipes if base else {}), **{k: _recipe(k, v) for k, v in parsed.recipes.items()}}
    all_ingredients = {**(base.ingredients if base else {}), **ingredients}
    return RecipeBook(all_ingredients, recipes, base.modifiers if base else None)
