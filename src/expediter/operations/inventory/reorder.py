"""Suggested purchase orders from par levels: what to order so the walk-in is back at par.

An ingredient at or below its reorder point (its par when none is set) is ordered up to par, in
whole cases rounded **up** (a vendor does not sell 2.3 cases; being short costs more than a bit
extra). One :class:`PurchaseOrder` per vendor, for the vendor flow to send later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

import msgspec

from expediter.model.money import Money
from expediter.operations.inventory.recipes import Ingredient, RecipeBook
from expediter.operations.inventory.units import Unit, convert


class PurchaseOrderLine(msgspec.Struct, kw_only=True):
    ingredient: str
    vendor_item: str
    description: str
    cases: int
    case_size: Decimal
    case_unit: Unit
    on_hand: Decimal
    par: Decimal
    unit: Unit
    case_cost: Money


class PurchaseOrder(msgspec.Struct, kw_only=True):
    po_number: str
    vendor: str
    location_id: str
    business_date: date
    lines: list[PurchaseOrderLine]
    total: Money


def _cases(ingredient: Ingredient, need: Decimal) -> tuple[int, Decimal]:
    """Whole cases covering ``need`` (in the ingredient's unit), and one case in that unit."""
    if ingredient.case_size is None or ingredient.unit is Unit.CASE:
        # Counted in cases already: the need is a number of cases (the case size only says what
        # one holds).
        per_case = Decimal(1)
    else:
        per_case = convert(ingredient.case_size.quantity, ingredient.case_size.unit, ingredient.unit)
    return int((need / per_case).to_integral_value(rounding=ROUND_CEILING)), per_case


def _line(ingredient: Ingredient, stock: Decimal) -> PurchaseOrderLine | None:
    par = ingredient.par
    if par is None:
        return None
    point = ingredient.reorder_point if ingredient.reorder_point is not None else par
    if stock > point or stock >= par:
        return None
    cases, per_case = _cases(ingredient, par - stock)
    cost = (per_case * ingredient.unit_cost * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    case = ingredient.case_size
    return PurchaseOrderLine(
        ingredient=ingredient.id,
        vendor_item=ingredient.vendor_item,
        description=ingredient.name or ingredient.id,
        cases=cases,
        case_size=case.quantity if case else Decimal(1),
        case_unit=case.unit if case else ingredient.unit,
        on_hand=stock,
        par=par,
        unit=ingredient.unit,
        case_cost=Money(int(cost), ingredient.currency),
    )


def suggest_purchase_orders(
    on_hand: Mapping[str, Decimal], book: RecipeBook, *, location_id: str, business_date: date
) -> list[PurchaseOrder]:
    """Purchase orders per vendor for every ingredient with a par that is at or below its reorder
    point; an ingredient not counted is taken as zero on hand (ordered rather than run out)."""
    by_vendor: dict[str, list[PurchaseOrderLine]] = {}
    for ingredient in sorted(book.ingredients.values(), key=lambda i: i.id):
        line = _line(ingredient, on_hand.get(ingredient.id, Decimal(0)))
        if line is not None:
            by_vendor.setdefault(ingredient.vendor or "unassigned", []).append(line)
    return [
        PurchaseOrder(
            po_number=f"PO-{location_id}-{business_date:%Y%m%d}-{vendor}",
            vendor=vendor,
            location_id=location_id,
            business_date=business_date,
            lines=lines,
            total=Money(sum(ln.case_cost.amount * ln.cases for ln in lines), lines[0].case_cost.currency),
        )
        for vendor, lines in sorted(by_vendor.items())
    ]
