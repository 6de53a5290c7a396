"""Count sheets, actual usage and variance, and purchase orders rounded up to whole cases."""

from __future__ import annotations

from decimal import Decimal

import pytest

from expediter.errors import RejectedInput
from expediter.model.money import Money
from expediter.operations.inventory.counts import on_hand, read_counts
from expediter.operations.inventory.recipes import load_recipe_book
from expediter.operations.inventory.reorder import suggest_purchase_orders
from expediter.operations.inventory.usage import theoretical_usage
from expediter.operations.inventory.variance import actual_usage, variance_report
from tests.operations.inventory.kitchen import DAY, LOCATION, RECIPES_TOML, sales

OPENING = "ingredient,unit,quantity\nbeef_patty,each,50\nonion,lb,5\nbun,each,20\n"
RECEIVED = "ingredient,unit,quantity\nbeef_patty,case,1\n"
CLOSING = "Ingredient,Unit,Quantity\nbeef_patty,each,82\nonion,oz,64\nbun,each,13\n"


def _counts(text: str) -> dict[str, Decimal]:
    book = load_recipe_book(RECIPES_TOML)
    return on_hand(read_counts(text, book), book)


def test_variance_report() -> None:
    book = load_recipe_book(RECIPES_TOML)
    theoretical = theoretical_usage(sales(), book, location_id=LOCATION, business_date=DAY).usage
    actual = actual_usage(_counts(OPENING), _counts(RECEIVED), _counts(CLOSING))
    assert actual == {"beef_patty": Decimal(8), "bun": Decimal(7), "onion": Decimal(1)}
    report = variance_report(theoretical, actual, book)
    rows = {ln.ingredient: (ln.theoretical, ln.actual, ln.variance, ln.variance_cost) for ln in report.lines}
    assert rows["beef_patty"] == (Decimal(6), Decimal(8), Decimal(2), Money(250))
    assert rows["bun"] == (Decimal(6), Decimal(7), Decimal(1), Money(30))
    # 0.21875 lb × 0.80 = 17.5 cents → 18 (half to even)
    assert rows["onion"] == (Decimal("0.78125"), Decimal(1), Decimal("0.21875"), Money(18))
    assert report.total_variance_cost == Money(298)
    assert report.not_counted == ["bacon", "ketchup", "mayo", "romaine"]


def test_purchase_orders_round_up_to_cases() -> None:
    book = load_recipe_book(RECIPES_TOML)
    orders = suggest_purchase_orders(_counts(CLOSING), book, location_id=LOCATION, business_date=DAY)
    assert [po.vendor for po in orders] == ["bakery", "sysco"]
    bakery, sysco = orders
    [buns] = bakery.lines
    assert (buns.ingredient, buns.cases, buns.case_cost) == ("bun", 2, Money(720))  # 47 needed, 24 a case
    assert bakery.po_number == "PO-bk1-20261127-bakery"
    assert {ln.ingredient: ln.cases for ln in sysco.lines} == {"bacon": 1, "onion": 1}  # beef 82 > 60: none
    assert sysco.total == Money(6000 + 4000)


def test_purchase_order_for_exactly_whole_cases() -> None:
    book = load_recipe_book(RECIPES_TOML)
    [sysco] = suggest_purchase_orders(
        {"beef_patty": Decimal(20), "onion": Decimal(20), "bacon": Decimal(10), "bun": Decimal(60)},
        book,
        location_id=LOCATION,
        business_date=DAY,
    )
    [beef] = sysco.lines
    assert beef.cases == 2  # 80 needed, 40 a case: exactly 2


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("ingredient,quantity\nonion,3\n", "row 1 (header)", "no unit column"),
        ("ingredient,unit,quantity\nonion,lb,3\nbun,each,abc\n", "row 3, column quantity", "not a number"),
        ("ingredient,unit,quantity\nonion,lb,-2\n", "row 2, column quantity", "zero or more"),
        ("ingredient,unit,quantity\nonion,bushel,2\n", "row 2, column unit", "unknown unit"),
        ("ingredient,unit,quantity\n,lb,2\n", "row 2, column ingredient", "empty"),
        ("ingredient,unit,quantity\nunobtainium,lb,2\n", "row 2, column ingredient", "unknown ingredient"),
        ("ingredient,unit,quantity\nonion,ml,2\n", "row 2, column unit", "cannot convert"),
        ('ingredient,unit,quantity\nonion,lb,"2,5"\n', "row 2, column quantity", "thousands separator"),
        ('ingredient,unit,quantity\nonion,lb,"1,25"\n', "row 2, column quantity", "thousands separator"),
        ('ingredient,unit,quantity\nonion,lb,"1,2500"\n', "row 2, column quantity", "thousands separator"),
        (
            "ingredient,unit,quantity,quantity\nonion,lb,3,30\n",
            "row 1 (header), columns C and D",
            "more than once",
        ),
        (
            "Quantity,ingredient,unit, quantity\n3,onion,lb,30\n",
            "row 1 (header), columns A and D",
            "more than once",
        ),
        ("ingredient,unit,quantity\nonion,lb,1,250\n", "row 2, column D", "4 cells but the header names 3"),
        (f"ingredient,unit,quantity\nonion,lb,3\n{'x' * 5000},lb,2\n", "row 3, column ingredient", "longer"),
        # Over the csv module's own limit (128 KiB), plain and quoted (commas inside the quotes).
        (f"ingredient,unit,quantity\nonion,lb,{'9' * 140_000}\n", "row 2, column quantity", "longer"),
        (f'ingredient,unit,quantity\n"{"a," * 70_000}",lb,2\n', "row 2, column ingredient", "longer"),
        (
            f"ingredient,unit,quantity\nonion,lb,3\n\nbun,each,2,{'n' * 140_000}\n",
            "row 4, column D",
            "longer",
        ),
    ],
)
def test_bad_count_sheets_name_row_and_column(text: str, where: str, message: str) -> None:
    book = load_recipe_book(RECIPES_TOML)
    with pytest.raises(RejectedInput, match=message) as caught:
        read_counts(text, book)
    assert caught.value.where == where
    assert caught.value.fix


def test_a_comma_grouping_thousands_is_read() -> None:
    lines = read_counts('ingredient,unit,quantity\nonion,lb,"1,250"\nbun,each,"12,000.5"\n')
    assert [line.quantity for line in lines] == [Decimal(1250), Decimal("12000.5")]


def test_ingredient_counted_in_cases_is_ordered_in_cases() -> None:
    book = load_recipe_book(
        '[ingredients.buns]\nunit = "case"\ncase_size = "96 each"\npar = 4\nunit_cost = 30\nvendor = "V"\n'
    )
    [order] = suggest_purchase_orders({"buns": Decimal(1)}, book, location_id=LOCATION, business_date=DAY)
    [line] = order.lines
    assert (line.cases, line.case_cost, order.total) == (3, Money(3000), Money(9000))
