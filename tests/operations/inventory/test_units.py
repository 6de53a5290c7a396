"""Unit conversion: exact within a dimension, refused across, cases through a case size."""

from __future__ import annotations

from decimal import Decimal

import pytest

from expediter.errors import RejectedInput
from expediter.operations.inventory.units import CaseSize, Unit, convert, parse_unit


@pytest.mark.parametrize(
    ("amount", "source", "target", "expected"),
    [
        ("1", Unit.LB, Unit.OZ, "16"),
        ("1", Unit.KG, Unit.G, "1000"),
        ("2", Unit.OZ, Unit.LB, "0.125"),
        ("1", Unit.GAL, Unit.FL_OZ, "128"),
        ("1", Unit.GAL, Unit.CUP, "16"),
        ("1", Unit.CUP, Unit.FL_OZ, "8"),
        ("1.5", Unit.L, Unit.ML, "1500"),
        ("3", Unit.EACH, Unit.EACH, "3"),
    ],
)
def test_conversions(amount: str, source: Unit, target: Unit, expected: str) -> None:
    assert convert(Decimal(amount), source, target) == Decimal(expected)


def test_kilogram_in_pounds_round_trips() -> None:
    pounds = convert(Decimal(1), Unit.KG, Unit.LB)
    assert str(pounds).startswith("2.2046226218")
    assert convert(pounds, Unit.LB, Unit.KG).quantize(Decimal("1.000000")) == Decimal(1)


def test_cases_use_the_ingredient_case_size() -> None:
    tomatoes = CaseSize(quantity=Decimal(25), unit=Unit.LB)
    assert convert(Decimal(2), Unit.CASE, Unit.LB, tomatoes) == Decimal(50)
    assert convert(Decimal(2), Unit.CASE, Unit.OZ, tomatoes) == Decimal(800)
    assert convert(Decimal("12.5"), Unit.LB, Unit.CASE, tomatoes) == Decimal("0.5")


def test_case_without_size_is_refused() -> None:
    with pytest.raises(RejectedInput, match="no case size"):
        convert(Decimal(1), Unit.CASE, Unit.LB, what="tomato")


def test_weight_to_volume_is_refused() -> None:
    with pytest.raises(RejectedInput, match="cannot convert lb to ml") as caught:
        convert(Decimal(1), Unit.LB, Unit.ML, what="honey")
    assert "volume" in caught.value.fix


def test_unit_spellings() -> None:
    assert parse_unit("LBS") is Unit.LB
    assert parse_unit("fl oz") is Unit.FL_OZ
    with pytest.raises(RejectedInput, match="unknown unit 'bushel'") as caught:
        parse_unit("bushel", "row 4, column unit")
    assert caught.value.where == "row 4, column unit"
