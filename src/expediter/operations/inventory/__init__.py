"""The chef's side of the daily close: recipes, theoretical and actual usage, variance, reorders."""

from expediter.operations.inventory.counts import CountLine, on_hand, read_counts
from expediter.operations.inventory.recipes import (
    Component,
    Ingredient,
    ModifierRecipe,
    Recipe,
    RecipeBook,
    load_recipe_book,
    load_recipes_csv,
)
from expediter.operations.inventory.reorder import PurchaseOrder, PurchaseOrderLine, suggest_purchase_orders
from expediter.operations.inventory.units import CaseSize, Quantity, Unit, convert, parse_unit
from expediter.operations.inventory.usage import MissingRecipe, TheoreticalUsage, theoretical_usage
from expediter.operations.inventory.variance import (
    VarianceLine,
    VarianceReport,
    actual_usage,
    variance_report,
)

__all__ = [
    "CaseSize",
    "Component",
    "CountLine",
    "Ingredient",
    "MissingRecipe",
    "ModifierRecipe",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Quantity",
    "Recipe",
    "RecipeBook",
    "TheoreticalUsage",
    "Unit",
    "VarianceLine",
    "VarianceReport",
    "actual_usage",
    "convert",
    "load_recipe_book",
    "load_recipes_csv",
    "on_hand",
    "parse_unit",
    "read_counts",
    "suggest_purchase_orders",
    "theoretical_usage",
    "variance_report",
]
