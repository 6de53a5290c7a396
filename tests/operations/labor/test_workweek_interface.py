"""The payroll interface is small and stable: these names, documented in docs/payroll.md, are what
other code (and a payroll admin's own checks) compute a workweek's pay through."""

from __future__ import annotations

import inspect

import msgspec

import expediter.operations.labor.workweek as workweek
from expediter.model.labor import LaborSettings, OvertimeRuleSet, Weekday
from tests.fixtures_path import REPO_ROOT


def test_the_public_names_are_locked() -> None:
    assert sorted(workweek.__all__) == [
        "Earning",
        "EarningKind",
        "WorkweekHours",
        "WorkweekPay",
        "workweek_pay",
        "workweeks_pay",
    ]


def test_the_signatures_are_locked() -> None:
    head = "(punches: 'Iterable[TimePunch]', location: 'Locations',"
    jobs = " jobs: 'Iterable[Job] | Mapping[str, Job]' = ()"
    assert str(inspect.signature(workweek.workweek_pay)) == (
        f"{head}{jobs}, *, employee_id: 'str | None' = None, week_start: 'date | None' = None)"
        " -> 'WorkweekPay'"
    )
    assert str(inspect.signature(workweek.workweeks_pay)) == f"{head}{jobs}) -> 'list[WorkweekPay]'"


def _fields(struct: type[msgspec.Struct]) -> list[str]:
    return list(struct.__struct_fields__)


def test_the_result_fields_are_locked() -> None:
    assert _fields(workweek.WorkweekPay) == [
        "employee_id",
        "location_id",
        "week_start",
        "hours",
        "regular_rate",
        "tip_credit",
        "earnings",
        "total",
    ]
    assert _fields(workweek.WorkweekHours) == ["regular", "overtime", "double_time"]
    assert _fields(workweek.Earning) == ["kind", "job_code", "hours", "rate", "amount"]
    assert [k.value for k in workweek.EarningKind] == ["regular", "overtime", "double_time", "split_shift"]


def test_the_location_settings_are_locked() -> None:
    assert _fields(LaborSettings) == [
        "overtime_rules",
        "workday_start",
        "workweek_start",
        "minimum_wage",
        "tipped_cash_wage",
        "alternative_workweek_hours",
    ]
    assert [r.value for r in OvertimeRuleSet] == ["federal", "california"]
    assert len(Weekday) == 7


def test_every_public_name_is_in_the_payroll_docs() -> None:
    text = (REPO_ROOT / "docs" / "payroll.md").read_text(encoding="utf-8")
    for name in [*workweek.__all__, *_fields(LaborSettings), *_fields(workweek.WorkweekPay)]:
        assert f"`{name}" in text, name


def test_the_example_in_the_docs_runs() -> None:
    """The interface's example in docs/payroll.md (Fact Sheet #15: 45 h at 2.13 pay 113.98) runs
    as written; its own assert checks the figures."""
    text = (REPO_ROOT / "docs" / "payroll.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    (example,) = [b for b in blocks if "workweek_pay(punches, la, [server])" in b]
    namespace: dict[str, object] = {}
    exec(compile(example, "docs/payroll.md", "exec"), namespace)
    assert str(namespace["pay"].total.amount) == "11398"  # type: ignore[attr-defined]
