"""One reading of a flow's ``schedule``: what ``expediter check`` accepts, the scheduler runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from expediter.catalog.load import load_catalog
from expediter.catalog.schedule import NICKNAMES, schedule_problem
from expediter.catalog.schema import Flow, Level, Trigger
from expediter.check.catalog import check_catalog
from expediter.cli import app
from expediter.engine.schedule_time import next_occurrence, occurrences, plan_runs
from expediter.errors import ConfigError
from expediter.model.location import Location
from tests.catalog.helpers import SECRET_ENV, replaced, write_catalog
from tests.clocks import SUITE_STARTED

DOWNTOWN = Location(id="downtown", name="Downtown", timezone="America/New_York")
REFUSED = [
    pytest.param("30 4 * * * *", "no seconds field", id="six-fields"),
    pytest.param("0 30 4 * * * 2027", "no seconds or year field", id="seven-fields"),
    pytest.param("@reboot", "not a schedule the hub runs", id="reboot"),
    pytest.param("0 5 31 2 *", "never happens", id="31-february"),
    pytest.param("0 5 31 4,6,9,11 *", "never happens", id="31-in-short-months"),
    pytest.param("every night", "has 2 field(s)", id="words"),
    pytest.param("30 25 * * *", "not a valid cron expression", id="hour-25"),
]


def scheduled(schedule: str) -> Flow:
    return Flow(
        id="nightly",
        from_="pos",
        to="back_office",
        data="sales_summary",
        level=Level.FILE,
        trigger=Trigger.SCHEDULE,
        owner="ops",
        contact="ops@bistro.example",
        description="The night's sales.",
        impact="The back office has no sales.",
        schedule=schedule,
    )


def check_problems(tmp_path: Path, schedule: str) -> list[str]:
    path = write_catalog(tmp_path, replaced('schedule = "30 4 * * *"', f'schedule = "{schedule}"'))
    return [str(p) for p in check_catalog(load_catalog(path), tmp_path, str(path))]


@pytest.mark.parametrize("nickname", sorted(NICKNAMES))
def test_a_nickname_checks_clean_and_runs_like_its_five_fields(
    tmp_path: Path, nickname: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    assert check_problems(tmp_path, nickname) == []
    start = SUITE_STARTED
    year = start + timedelta(days=400)
    by_nickname = list(occurrences(nickname, DOWNTOWN.timezone, start, year))
    assert by_nickname == list(occurrences(NICKNAMES[nickname], DOWNTOWN.timezone, start, year))
    assert by_nickname  # @yearly too: 400 days hold a 1 January


@pytest.mark.parametrize(("schedule", "reason"), REFUSED)
def test_what_check_refuses_the_scheduler_refuses_with_the_same_reason(
    tmp_path: Path, schedule: str, reason: str
) -> None:
    [problem] = [p for p in check_problems(tmp_path, schedule) if "$.flows[0].schedule" in p]
    assert reason in problem and "fix:" in problem
    with pytest.raises(ConfigError, match="flow nightly: schedule") as caught:
        plan_runs(scheduled(schedule), DOWNTOWN, SUITE_STARTED - timedelta(days=2), SUITE_STARTED)
    assert reason in str(caught.value)


def test_check_prints_the_six_field_schedule_problem_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    path = write_catalog(tmp_path, replaced('schedule = "30 4 * * *"', 'schedule = "0 30 4 * * *"'))
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert "$.flows[0].schedule" in result.output and "no seconds field" in result.output


FIELD = st.sampled_from(["*", "0", "5", "30", "59", "60", "*/15", "1-5", "L", "?", "31", "2", "MON", "x"])


@given(st.lists(FIELD, min_size=3, max_size=7).map(" ".join) | st.sampled_from(sorted(NICKNAMES)))
def test_check_accepts_exactly_the_schedules_the_scheduler_can_run(schedule: str) -> None:
    try:
        next_occurrence(schedule, DOWNTOWN.timezone, SUITE_STARTED)
    except ConfigError:
        runs = False
    else:
        runs = True
    assert (schedule_problem(schedule) is None) == runs, schedule
