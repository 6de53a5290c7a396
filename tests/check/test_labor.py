"""``[locations.labor]``: read from TOML, and each setting pay cannot be computed with is reported."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from expediter.catalog.load import load_catalog
from expediter.catalog.schema import Catalog
from expediter.check.labor import check_labor
from expediter.model.labor import LaborSettings, OvertimeRuleSet, Weekday
from expediter.model.location import Location

TOML = """
[[locations]]
id = "LA1"
name = "Sunset"
timezone = "America/Los_Angeles"
[locations.labor]
overtime_rules = "california"
workday_start = "00:00"
workweek_start = "monday"
minimum_wage = "16.50"
alternative_workweek_hours = 10
"""


def test_labor_settings_are_read_from_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "expediter.toml"
    path.write_text(TOML)
    (location,) = load_catalog(path).locations
    assert location.labor == LaborSettings(
        overtime_rules=OvertimeRuleSet.CALIFORNIA,
        workday_start="00:00",
        workweek_start=Weekday.MONDAY,
        minimum_wage=Decimal("16.50"),
        alternative_workweek_hours=Decimal(10),
    )
    assert check_labor(load_catalog(path), str(path)) == []


@pytest.mark.parametrize(
    ("labor", "key", "message"),
    [
        (LaborSettings(workday_start="midnight"), "workday_start", "is not a local time HH:MM"),
        (
            LaborSettings(
                overtime_rules=OvertimeRuleSet.CALIFORNIA,
                minimum_wage=Decimal(16),
                tipped_cash_wage=Decimal(5),
            ),
            "tipped_cash_wage",
            "California allows no tip credit",
        ),
        (LaborSettings(tipped_cash_wage=Decimal("2.13")), "tipped_cash_wage", "needs the minimum wage"),
        (
            LaborSettings(minimum_wage=Decimal("7.25"), tipped_cash_wage=Decimal(8)),
            "tipped_cash_wage",
            "is above minimum_wage",
        ),
        (LaborSettings(minimum_wage=Decimal("7.255")), "minimum_wage", "dollars and cents"),
        (
            LaborSettings(alternative_workweek_hours=Decimal(10)),
            "alternative_workweek_hours",
            "California rule",
        ),
        (
            LaborSettings(overtime_rules=OvertimeRuleSet.CALIFORNIA, alternative_workweek_hours=Decimal(12)),
            "alternative_workweek_hours",
            "not 8 to 10 hours",
        ),
    ],
)
def test_each_unusable_setting_is_reported_with_a_fix(labor: LaborSettings, key: str, message: str) -> None:
    catalog = Catalog(
        locations=[Location(id="LA1", name="Sunset", timezone="America/Los_Angeles", labor=labor)]
    )
    (problem,) = check_labor(catalog, "expediter.toml")
    assert problem.where == f"$.locations[0].labor.{key}"
    assert message in problem.message and problem.fix and problem.subject == "location LA1"
