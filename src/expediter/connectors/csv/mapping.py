"""Canonical results ⇄ rows of the CSV layouts (see :mod:`.formats` and ``docs/layouts/``).

The sales summary is written long ("tidy"): one row per figure, ``section`` naming the figure and
``key`` the breakdown (a category, a reason, a tender). New categories or reasons never change the
columns, and re-reading the rows rebuilds the :class:`SalesSummary` exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

import msgspec

from expediter.model.labor import Employee
from expediter.model.money import Money
from expediter.model.payroll import LaborLine, PayClass
from expediter.model.sales import ProductMixRow, SalesSummary
from expediter.plugin import RejectedInput

SUMMARY_COUNTS = ("checks", "guests")
SUMMARY_AMOUNTS = (
    "gross_sales",
    "discounts",
    "comps",
    "net_sales",
    "tax_restaurant",
    "tax_marketplace_facilitator",
    "tax_inclusive",
    "service_charges",
    "auto_gratuity",
    "total",
    "card_tips",
    "other_tips",
    "paid",
)
SUMMARY_PAIRS = {
    "gift_cards_sold": ("gift_cards_sold_count", "gift_cards_sold"),
    "voids": ("void_count", "void_amount"),
    "refunds": ("refund_count", "refund_amount"),
    "canceled_checks": ("canceled_checks", "canceled_amount"),
}
SUMMARY_MAPS = (
    "net_sales_by_category",
    "net_sales_by_dining_option",
    "discounts_by_reason",
    "comps_by_reason",
    "tenders_by_type",
    "tenders_by_card_brand",
    "tenders_by_marketplace",
)


def summary_rows(s: SalesSummary) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sales_summary v1`` in a fixed order: counts, amounts, pairs, then breakdowns."""
    head = (s.location_id, s.business_date, s.currency)
    for name in SUMMARY_COUNTS:
        yield (*head, name, "", getattr(s, name), None)
    for name in SUMMARY_AMOUNTS:
        yield (*head, name, "", None, getattr(s, name))
    for section, (count, amount) in SUMMARY_PAIRS.items():
        yield (*head, section, "", getattr(s, count), getattr(s, amount))
    for name in SUMMARY_MAPS:
        for key, amount in getattr(s, name).items():
            yield (*head, name, key, None, amount)


def _summary_field(values: dict[str, Any], row: Mapping[str, Any], currency: str) -> None:
    section, key = row["section"], row["key"]
    if section in SUMMARY_COUNTS:
        values[section] = row["count"]
    elif section in SUMMARY_AMOUNTS:
        values[section] = Money(row["amount"], currency)
    elif section in SUMMARY_PAIRS:
        count, amount = SUMMARY_PAIRS[section]
        values[count], values[amount] = row["count"], Money(row["amount"], currency)
    elif section in SUMMARY_MAPS:
        values.setdefault(section, {})[key] = Money(row["amount"], currency)
    else:
        raise RejectedInput(f"unknown sales_summary section {section!r}", where=f"section {section}")


def summaries_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[SalesSummary]:
    """Rebuild the summaries (one per location and date) from re-read rows."""
    days: dict[tuple[str, date], dict[str, Any]] = {}
    for row in rows:
        key = (row["location_id"], row["business_date"])
        values = days.setdefault(
            key,
            {"location_id": key[0], "business_date": key[1], "currency": row["currency"]}
            | {name: {} for name in SUMMARY_MAPS},
        )
        _summary_field(values, row, row["currency"])
    try:
        return [msgspec.convert(v, SalesSummary) for v in days.values()]
    except msgspec.ValidationError as exc:
        raise RejectedInput(f"the sales summary rows are incomplete: {exc}") from exc


def mix_rows(
    location_id: str, business_date: date, currency: str, rows: Iterable[ProductMixRow]
) -> Iterator[tuple[Any, ...]]:
    for r in rows:
        yield (
            location_id,
            business_date,
            currency,
            r.item_id,
            r.item_name,
            r.plu,
            r.category,
            r.quantity,
            r.gross,
            r.discounts,
            r.comps,
            r.net,
            r.voided_quantity,
            r.voided_amount,
        )


def mix_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[ProductMixRow]:
    money = ("gross", "discounts", "comps", "net", "voided_amount")
    result = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k not in ("location_id", "business_date", "currency")}
        fields["plu"] = fields["plu"] or ""
        for name in money:
            fields[name] = Money(row[name], row["currency"])
        result.append(ProductMixRow(**fields))
    return result


def labor_rows(
    lines: Iterable[LaborLine], employees: Mapping[str, Employee] | None = None
) -> Iterator[tuple[Any, ...]]:
    """Rows of ``labor v1``; ``employees`` (by id) adds payroll ids and names when given."""
    employees = employees or {}
    for line in lines:
        employee = employees.get(line.employee_id)
        yield (
            line.location_id,
            line.business_date,
            line.employee_id,
            employee.payroll_id if employee else "",
            employee.name if employee else "",
            line.job_code,
            line.hourly_wage,
            line.regular_hours,
            line.overtime_hours,
            line.double_time_hours,
            line.wages(PayClass.REGULAR),
            line.wages(PayClass.OVERTIME),
            line.wages(PayClass.DOUBLE_TIME),
            line.total_wages,
            line.declared_cash_tips,
        )
