"""Checks of each location's ``[locations.labor]`` settings: what pay cannot be computed with."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from expediter.catalog.problems import Problem
from expediter.catalog.schema import Catalog
from expediter.model.labor import LaborSettings, OvertimeRuleSet
from expediter.model.time import parse_day_start


def check_labor(catalog: Catalog, file: str) -> list[Problem]:
    problems = []
    for index, location in enumerate(catalog.locations):
        at = f"$.locations[{index}].labor"
        for key, message, fix in labor_problems(location.labor):
            problems.append(
                Problem(
                    file=file,
                    where=f"{at}.{key}",
                    subject=f"location {location.id}",
                    message=message,
                    fix=fix,
                )
            )
    return problems


def labor_problems(labor: LaborSettings) -> Iterator[tuple[str, str, str]]:
    """(key, message, fix) for each setting that cannot stand."""
    if labor.workday_start:
        try:
            parse_day_start(labor.workday_start)
        except ValueError:
            yield (
                "workday_start",
                f"workday_start {labor.workday_start!r} is not a local time HH:MM",
                'write the start of the fixed workday, e.g. workday_start = "00:00", or leave it out',
            )
    yield from _wages(labor)
    if labor.alternative_workweek_hours is not None:
        if labor.overtime_rules != OvertimeRuleSet.CALIFORNIA:
            yield (
                "alternative_workweek_hours",
                "an alternative workweek schedule is a California rule (Labor Code §511)",
                'set overtime_rules = "california", or remove alternative_workweek_hours',
            )
        elif not Decimal(8) < labor.alternative_workweek_hours <= Decimal(10):
            yield (
                "alternative_workweek_hours",
                f"alternative_workweek_hours {labor.alternative_workweek_hours} is not 8 to 10 hours a day",
                "Labor Code §511 schedules up to 10 hours a day; write the adopted schedule's hours",
            )


def _wages(labor: LaborSettings) -> Iterator[tuple[str, str, str]]:
    for key in ("minimum_wage", "tipped_cash_wage"):
        value = getattr(labor, key)
        if value is not None and (value <= 0 or value != value.quantize(Decimal("0.01"))):
            yield (
                key,
                f"{key} {value} is not an hourly wage in dollars and cents",
                f'write e.g. {key} = "7.25"',
            )
    if labor.tipped_cash_wage is None:
        return
    if labor.overtime_rules == OvertimeRuleSet.CALIFORNIA:
        yield (
            "tipped_cash_wage",
            "California allows no tip credit (Labor Code §351): tipped staff earn the full minimum wage",
            "remove tipped_cash_wage",
        )
    elif labor.minimum_wage is None:
        yield (
            "tipped_cash_wage",
            "a tip credit needs the minimum wage it is taken against",
            'add minimum_wage = "7.25" (or the state or local minimum) beside it',
        )
    elif labor.tipped_cash_wage > labor.minimum_wage:
        yield (
            "tipped_cash_wage",
            f"tipped_cash_wage {labor.tipped_cash_wage} is above minimum_wage {labor.minimum_wage}",
            "the cash wage under a tip credit is below the minimum wage (federal 2.13)",
        )
