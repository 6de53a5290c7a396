"""Units of measure and exact conversion between them (Decimal, never float).

Weight converts to weight and volume to volume by fixed factors (US customary: 1 cup = 8 fl oz,
1 gal = 128 fl oz). ``each`` counts pieces. A ``case`` is only meaningful for one ingredient (a
case of tomatoes is 25 lb, a case of buns 96 each), so converting to or from cases needs that
ingredient's case size. Weight ↔ volume is refused: it needs a density nobody declared.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

from expediter.errors import RejectedInput


class Dimension(StrEnum):
    WEIGHT = "weight"
    VOLUME = "volume"
    COUNT = "count"
    CASE = "case"


class Unit(StrEnum):
    G = "g"
    KG = "kg"
    OZ = "oz"
    LB = "lb"
    ML = "ml"
    L = "l"
    FL_OZ = "fl_oz"
    CUP = "cup"
    GAL = "gal"
    EACH = "each"
    CASE = "case"


_FACTORS: dict[Unit, tuple[Dimension, Decimal]] = {
    Unit.G: (Dimension.WEIGHT, Decimal(1)),
    Unit.KG: (Dimension.WEIGHT, Decimal(1000)),
    Unit.OZ: (Dimension.WEIGHT, Decimal("28.349523125")),
    Unit.LB: (Dimension.WEIGHT, Decimal("453.59237")),
    Unit.ML: (Dimension.VOLUME, Decimal(1)),
    Unit.L: (Dimension.VOLUME, Decimal(1000)),
    Unit.FL_OZ: (Dimension.VOLUME, Decimal("29.5735295625")),
    Unit.CUP: (Dimension.VOLUME, Decimal("236.5882365")),
    Unit.GAL: (Dimension.VOLUME, Decimal("3785.411784")),
    Unit.EACH: (Dimension.COUNT, Decimal(1)),
    Unit.CASE: (Dimension.CASE, Decimal(1)),
}
_ALIASES = {
    "gram": Unit.G, "grams": Unit.G, "kilogram": Unit.KG, "kgs": Unit.KG, "ounce": Unit.OZ,
    "ounces": Unit.OZ, "lbs": Unit.LB, "pound": Unit.LB, "pounds": Unit.LB, "milliliter": Unit.ML,
    "litre": Unit.L, "liter": Unit.L, "floz": Unit.FL_OZ, "fl oz": Unit.FL_OZ, "fl. oz": Unit.FL_OZ,
    "cups": Unit.CUP, "gallon": Unit.GAL, "gallons": Unit.GAL, "ea": Unit.EACH, "pc": Unit.EACH,
    "piece": Unit.EACH, "pieces": Unit.EACH, "cs": Unit.CASE, "cases": Unit.CASE,
}  # fmt: skip


class CaseSize(msgspec.Struct, frozen=True, kw_only=True):
    """How much one case of an ingredient holds, e.g. ``CaseSize(quantity=Decimal(25), unit=Unit.LB)``."""

    quantity: Decimal
    unit: Unit


class Quantity(msgspec.Struct, frozen=True):
    amount: Decimal
    unit: Unit


def parse_unit(text: str, where: str = "") -> Unit:
    """A unit from its code or a common spelling; ``RejectedInput`` listing the known ones."""
    key = text.strip().lower()
    try:
        return Unit(key)
    except ValueError:
        if key in _ALIASES:
            return _ALIASES[key]
    raise RejectedInput(
        f"unknown unit {text!r}", where=where, fix=f"use one of {', '.join(u.value for u in Unit)}"
    )


def dimension(unit: Unit) -> Dimension:
    return _FACTORS[unit][0]


def convert(
    amount: Decimal, source: Unit, target: Unit, case: CaseSize | None = None, what: str = ""
) -> Decimal:
    """``amount`` of ``source`` expressed in ``target``; cases go through the ingredient's case size."""
    if source is target:
        return amount
    if source is Unit.CASE or target is Unit.CASE:
        return _convert_case(amount, source, target, case, what)
    (from_dim, from_factor), (to_dim, to_factor) = _FACTORS[source], _FACTORS[target]
    if from_dim is not to_dim:
        raise RejectedInput(
            f"cannot convert {source.value} to {target.value}{f' for {what}' if what else ''}",
            where=what,
            fix=f"state {what or 'the quantity'} in a {to_dim.value} unit",
        )
    return amount * from_factor / to_factor


def _convert_case(amount: Decimal, source: Unit, target: Unit, case: CaseSize | None, what: str) -> Decimal:
    if case is None:
        raise RejectedInput(
            f"{what or 'this ingredient'} has no case size", where=what, fix="declare case_size, e.g. '25 lb'"
        )
    if source is Unit.CASE:
        return convert(amount * case.quantity, case.unit, target, what=what)
    return convert(amount, source, case.unit, what=what) / case.quantity
