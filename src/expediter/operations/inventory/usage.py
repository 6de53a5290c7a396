"""Theoretical usage: what the day's sales should have used, by ingredient.

Voided lines were never made, so they use nothing; comped lines were made and given away, so
they count. An item without a recipe is **reported** (with how many were sold), never guessed: a
usage report that silently skips the best seller is worse than one that says it cannot cost it.

Sales are first counted per (recipe, modifier signature), then each distinct combination is
expanded once, so a 1,500-check day costs a few hundred expansions, not thousands.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import msgspec

from expediter.model.order import LineKind, Modifier, ModifierAction, Order, OrderState
from expediter.operations.accounting.journal import latest_versions
from expediter.operations.inventory.recipes import RecipeBook, Usage

# Members read once: in Python 3.11 each ``Enum.MEMBER`` costs about 0.1 µs (measured), and the
# close reads several for every line of every check of a group's night.
_CANCELED = OrderState.CANCELED
_ITEM_LINE = LineKind.ITEM
_NOTE = ModifierAction.NOTE
_REMOVE = ModifierAction.REMOVE


ModifierSignature = tuple[
    tuple[str | None, str | None, str, ModifierAction, Decimal, "ModifierSignature"], ...
]


class MissingRecipe(msgspec.Struct, kw_only=True):
    key: str
    """The line's PLU, else its item id, else its name."""
    name: str
    category: str
    quantity: Decimal


class UnmatchedModifier(msgspec.Struct, kw_only=True):
    name: str
    action: ModifierAction
    quantity: Decimal


class TheoreticalUsage(msgspec.Struct, kw_only=True):
    location_id: str
    business_date: date
    usage: dict[str, Decimal]
    """Ingredient id → quantity in the ingredient's own unit."""
    missing_recipes: list[MissingRecipe] = []
    unmatched_modifiers: list[UnmatchedModifier] = []
    """Add/remove modifiers no recipe explains (a "medium rare" choice is usually fine here)."""
    items_sold: Decimal = Decimal(0)


def _signature(modifiers: list[Modifier]) -> ModifierSignature:
    return tuple(
        [
            (m.plu, m.modifier_id, m.name, m.action, m.quantity, _signature(m.modifiers))
            for m in modifiers
            if m.action is not _NOTE
        ]
    )


def _add(usage: Usage, more: Usage, times: Decimal) -> None:
    for ingredient, amount in more.items():
        usage[ingredient] = usage.get(ingredient, Decimal(0)) + amount * times


class _Tally:
    """Counts sold units per combination while the orders stream by."""

    def __init__(self) -> None:
        self.sold: dict[tuple[str, ModifierSignature], Decimal] = {}
        self.unknown: dict[tuple[str, str, str], Decimal] = {}
        self.items = Decimal(0)

    def add(self, orders: Iterable[Order], book: RecipeBook) -> None:
        """Written for speed (every sold line of a group's night goes through it): locals, one
        look-up per line for its recipe and one for its combination."""
        keys: dict[tuple[str | None, str | None], str | None] = {}
        sold, zero, items = self.sold, Decimal(0), self.items
        for order in orders:
            if order.state is _CANCELED:
                continue
            for line in order.lines:
                if line.voided or line.kind is not _ITEM_LINE:
                    continue
                quantity = line.quantity
                items += quantity
                lookup = (line.plu, line.item_id)
                recipe_id = keys.get(lookup, _UNSEEN)
                if recipe_id is _UNSEEN:
                    recipe_id = keys[lookup] = book.recipe_key(line.plu, line.item_id)
                if recipe_id is None:
                    miss = (line.plu or line.item_id or line.name, line.name, line.category)
                    self.unknown[miss] = self.unknown.get(miss, zero) + quantity
                    continue
                combo = (recipe_id, _signature(line.modifiers) if line.modifiers else ())
                sold[combo] = sold.get(combo, zero) + quantity
        self.items = items


_UNSEEN = "\0unseen"
"""Not a recipe id: a (PLU, item id) not looked up yet (``None`` means it has no recipe)."""


def _expand(
    book: RecipeBook,
    recipe_id: str,
    signature: ModifierSignature,
    unmatched: dict[tuple[str, ModifierAction], Decimal],
) -> Usage:
    """One unit of an item with its modifiers: removals first, then additions (nested too)."""
    removed: set[str] = set()
    extra: Usage = {}
    _modifiers(book, signature, Decimal(1), removed, extra, unmatched)
    usage = dict(book.per_unit(recipe_id, frozenset(removed)))
    _add(usage, extra, Decimal(1))
    return usage


def _modifiers(
    book: RecipeBook,
    signature: ModifierSignature,
    times: Decimal,
    removed: set[str],
    extra: Usage,
    unmatched: dict[tuple[str, ModifierAction], Decimal],
) -> None:
    for plu, modifier_id, name, action, quantity, nested in signature:
        recipe = book.modifier((plu, modifier_id, name))
        count = times * quantity
        if recipe is not None:
            removed.update(recipe.removes)
            _add(extra, book.components_usage(list(recipe.components)), count)
        elif action is _REMOVE and (ingredient := book.ingredient_named(name)):
            removed.add(ingredient)
        else:
            unmatched[(name, action)] = unmatched.get((name, action), Decimal(0)) + count
        _modifiers(book, nested, count, removed, extra, unmatched)


def theoretical_usage(
    orders: Iterable[Order], book: RecipeBook, *, location_id: str, business_date: date
) -> TheoreticalUsage:
    """What the sales of one location's business date should have used."""
    tally = _Tally()
    tally.add(latest_versions(orders), book)
    usage: Usage = {}
    unmatched: dict[tuple[str, ModifierAction], Decimal] = {}
    for (recipe_id, signature), sold in tally.sold.items():
        per_unit: dict[tuple[str, ModifierAction], Decimal] = {}
        _add(usage, _expand(book, recipe_id, signature, per_unit), sold)
        for key, count in per_unit.items():
            unmatched[key] = unmatched.get(key, Decimal(0)) + count * sold
    return TheoreticalUsage(
        location_id=location_id,
        business_date=business_date,
        usage=dict(sorted(usage.items())),
        missing_recipes=[
            MissingRecipe(key=key, name=name, category=category, quantity=quantity)
            for (key, name, category), quantity in sorted(tally.unknown.items())
        ],
        unmatched_modifiers=[
            UnmatchedModifier(name=name, action=action, quantity=quantity)
            for (name, action), quantity in sorted(unmatched.items())
        ],
        items_sold=tally.items,
    )
