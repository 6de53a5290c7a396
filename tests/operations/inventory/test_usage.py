"""Theoretical usage of the worked kitchen day: modifiers, sub-recipes, yield, missing recipes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from expediter.errors import RejectedInput
from expediter.model.order import ModifierAction
from expediter.operations.inventory.recipes import RecipeBook, load_recipe_book, load_recipes_csv
from expediter.operations.inventory.usage import theoretical_usage
from tests.operations.inventory.kitchen import DAY, LOCATION, RECIPES_TOML, sales


def _book() -> RecipeBook:
    return load_recipe_book(RECIPES_TOML)


def test_worked_day_usage() -> None:
    report = theoretical_usage(sales(), _book(), location_id=LOCATION, business_date=DAY)
    # 6 burgers made (3 + 1 + 1 comped + 1; the 2 voided were not), 2 caesars.
    assert report.usage == {
        "bacon": Decimal("0.125"),  # extra bacon: 2 oz on one burger
        "beef_patty": Decimal(6),
        "bun": Decimal(6),
        "ketchup": Decimal(70),  # 6 × 10 ml + 2 × 5 ml through the sauce
        "mayo": Decimal("0.21"),  # 6 × 0.03 l + 2 × 0.015 l
        "onion": Decimal("0.78125"),  # 5 burgers (one "no onions") × 2 oz / 0.8 yield
        "romaine": Decimal("0.4"),  # 2 × 150 g / 0.75 yield
    }
    assert report.items_sold == Decimal(9)  # 6 burgers, 2 caesars, 1 special without a recipe


def test_missing_recipe_is_reported_not_guessed() -> None:
    report = theoretical_usage(sales(), _book(), location_id=LOCATION, business_date=DAY)
    [missing] = report.missing_recipes
    assert (missing.key, missing.name, missing.quantity) == ("9999", "Mystery special", Decimal(1))
    [unmatched] = report.unmatched_modifiers
    assert (unmatched.name, unmatched.action) == ("Medium rare", ModifierAction.ADD)


def test_plu_mapping_from_catalog_fills_a_gap() -> None:
    book = _book().with_plu_mappings({"9999": "classic_burger"})
    report = theoretical_usage(sales(), book, location_id=LOCATION, business_date=DAY)
    assert report.missing_recipes == []
    assert report.usage["beef_patty"] == Decimal(7)


def test_yield_uses_more_raw_product() -> None:
    book = _book()
    assert book.per_unit("classic_burger")["onion"] == Decimal("0.15625")  # 0.125 lb / 0.8
    assert book.per_unit("caesar")["romaine"] == Decimal("0.2")


def test_sub_recipe_is_shared() -> None:
    book = _book()
    assert book.per_unit("classic_burger")["mayo"] == Decimal("0.03")
    assert book.per_unit("caesar")["mayo"] == Decimal("0.015")


def test_remove_by_modifier_recipe() -> None:
    text = RECIPES_TOML + '\n[modifiers."9001"]\nremoves = ["onion", "bun"]\n'
    book = load_recipe_book(text)
    assert set(book.per_unit("classic_burger", frozenset({"onion", "bun"}))) == {
        "beef_patty",
        "mayo",
        "ketchup",
    }


def test_recipes_from_csv() -> None:
    base = _book()
    csv_text = (
        "recipe,plu,ingredient,sub_recipe,quantity,unit,yield\n"
        "bacon_burger,1102,beef_patty,,1,each,\n"
        "bacon_burger,,bacon,,3,oz,0.75\n"
        "bacon_burger,,,burger_sauce,40,ml,\n"
    )
    book = load_recipes_csv(csv_text, {}, base)
    usage = book.per_unit(book.recipe_key("1102", None) or "")
    assert usage["bacon"] == Decimal("0.25")  # 3 oz / 0.75 = 4 oz = 0.25 lb
    assert usage["mayo"] == Decimal("0.03")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[recipes.bad]\ncomponents = [{ ingredient = "unobtainium", quantity = 1, unit = "each" }]',
            "unknown ingredient",
        ),
        (
            '[recipes.bad]\ncomponents = [{ ingredient = "onion", quantity = 1, unit = "ml" }]',
            "cannot convert ml to lb",
        ),
        (
            '[recipes.bad]\ncomponents = [{ ingredient = "onion", quantity = 1, unit = "lb", yield = 1.5 }]',
            "yield",
        ),
        ('[recipes.loop]\ncomponents = [{ recipe = "loop", quantity = 1, unit = "each" }]', "cycle"),
        (
            '[recipes.bad]\ncomponents = [{ ingredient = "onion", quantity = "lots", unit = "lb" }]',
            "components",
        ),
    ],
)
def test_bad_recipe_files_are_refused(extra: str, message: str) -> None:
    with pytest.raises(RejectedInput, match=message):
        load_recipe_book(RECIPES_TOML + "\n" + extra + "\n")


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        (
            '[recipes.bad]\nbatch_quantity = 0\nbatch_unit = "l"\n'
            'components = [{ ingredient = "onion", quantity = 1, unit = "lb" }]',
            "recipes.bad.batch_quantity",
        ),
        (
            '[recipes.bad]\nbatch_quantity = -2\nbatch_unit = "l"\n'
            'components = [{ ingredient = "onion", quantity = 1, unit = "lb" }]',
            "recipes.bad.batch_quantity",
        ),
        (
            '[recipes.bad]\ncomponents = [{ ingredient = "onion", quantity = -5, unit = "lb" }]',
            "recipes.bad.components[0].quantity",
        ),
        ('[ingredients.flour]\nunit = "lb"\ncase_size = "0 lb"', "ingredients.flour.case_size"),
        ('[ingredients.flour]\nunit = "lb"\ncase_size = "-50 lb"', "ingredients.flour.case_size"),
        # A case of 10 lb cannot be turned into a count of "each": purchase orders would break.
        ('[ingredients.flour]\nunit = "each"\ncase_size = "10 lb"', "ingredients.flour.case_size"),
    ],
)
def test_impossible_quantities_are_refused_at_load_naming_the_key(extra: str, where: str) -> None:
    with pytest.raises(RejectedInput) as caught:
        load_recipe_book(RECIPES_TOML + "\n" + extra + "\n")
    assert caught.value.where == where and caught.value.fix


def test_removal_modifiers_match_plurals() -> None:
    book = load_recipe_book(
        '[ingredients.tomato]\nunit = "each"\n'
        '[ingredients.spud]\nunit = "each"\nname = "Potatoes"\n'
        '[ingredients.glass_noodles]\nunit = "g"\n'
    )
    assert book.ingredient_named("No tomatoes") == "tomato"
    assert book.ingredient_named("no tomato") == "tomato"
    assert book.ingredient_named("No Potato") == "spud"
    assert book.ingredient_named("hold the potatoes") == "spud"
    assert book.ingredient_named("no glass noodles") == "glass_noodles"
    assert book.ingredient_named("no cheese") is None
