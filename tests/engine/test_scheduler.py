"""Scheduler time rules: time zones, day start, DST, catch-up, backfill and lateness."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.catalog.schema import Catalog, CatchUp, Flow, Level, System, SystemKind, Trigger
from expediter.engine.scheduler import (
    PlannedRun,
    backfill,
    closes_business_date,
    due_runs,
    late_flows,
    occurrences,
    plan_runs,
    scheduled_pairs,
)
from expediter.errors import ConfigError
from expediter.model.location import Location

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
DOWNTOWN = Location(id="downtown", name="Downtown", timezone="America/New_York", day_start="04:00")
AIRPORT = Location(id="airport", name="Airport", timezone="America/Los_Angeles", day_start="04:00")
MIDNIGHT_NY = Location(id="midnight", name="Midnight", timezone="America/New_York", day_start="00:00")


def nightly(schedule: str | None = "0 5 * * *", **fields: object) -> Flow:
    values: dict[str, object] = {
        "id": "nightly_close",
        "from_": "pos",
        "to": "back_office",
        "data": "sales_summary",
        "level": Level.FILE,
        "trigger": Trigger.SCHEDULE,
        "owner": "ops",
        "schedule": schedule,
    }
    return Flow(**(values | fields))  # type: ignore[arg-type]


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold).astimezone(UTC)


def summary(runs: list[PlannedRun]) -> list[tuple[date, datetime, bool]]:
    return [(r.business_date, r.scheduled_at, r.catch_up) for r in runs]


# --- time zone and day start --------------------------------------------------------------------


def test_each_location_runs_on_its_own_wall_clock() -> None:
    flow = nightly()
    last, now = local(NY, 2026, 1, 14, 12, 0), local(LA, 2026, 1, 15, 6, 0)
    [ny_run] = due_runs(flow, DOWNTOWN, last, now)
    [la_run] = due_runs(flow, AIRPORT, last, now)
    assert ny_run.scheduled_at == datetime(2026, 1, 15, 10, 0, tzinfo=UTC)  # 05:00 EST
    assert la_run.scheduled_at == datetime(2026, 1, 15, 13, 0, tzinfo=UTC)  # 05:00 PST
    assert ny_run.business_date == la_run.business_date == date(2026, 1, 14)
    assert (ny_run.flow_id, ny_run.location_id, ny_run.catch_up) == ("nightly_close", "downtown", False)


def test_a_run_closes_the_last_business_date_that_has_ended() -> None:
    # Day start 04:00: at 03:00 on the 10th the 9th is still trading (the bar is open).
    assert closes_business_date(DOWNTOWN, local(NY, 2026, 3, 10, 3, 0)) == date(2026, 3, 8)
    assert closes_business_date(DOWNTOWN, local(NY, 2026, 3, 10, 4, 0)) == date(2026, 3, 9)
    assert closes_business_date(DOWNTOWN, local(NY, 2026, 3, 10, 5, 0)) == date(2026, 3, 9)
    assert closes_business_date(MIDNIGHT_NY, local(NY, 2026, 3, 10, 3, 0)) == date(2026, 3, 9)


def test_nothing_is_due_for_a_flow_that_never_ran_or_has_no_schedule() -> None:
    now = local(NY, 2026, 1, 15, 6, 0)
    assert due_runs(nightly(), DOWNTOWN, None, now) == []
    assert due_runs(nightly(schedule=None), DOWNTOWN, now - timedelta(days=3), now) == []
    assert due_runs(nightly(enabled=False), DOWNTOWN, now - timedelta(days=3), now) == []


def test_a_bad_cron_expression_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError,
        match=r"flow nightly_close: schedule .every night. is not a valid cron expression: it has 2 field",
    ):
        due_runs(
            nightly(schedule="every night"),
            DOWNTOWN,
            local(NY, 2026, 1, 1, 0, 0),
            local(NY, 2026, 1, 3, 0, 0),
        )


# --- daylight saving time (America/New_York, 2026: 8 March and 1 November) ----------------------


def test_spring_forward_neither_skips_nor_doubles_a_run_in_the_missing_hour() -> None:
    flow = nightly("30 2 * * *")
    runs = due_runs(flow, MIDNIGHT_NY, local(NY, 2026, 3, 6, 12, 0), local(NY, 2026, 3, 10, 12, 0))
    assert [r.scheduled_at for r in runs] == [
        datetime(2026, 3, 7, 7, 30, tzinfo=UTC),  # 02:30 EST
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 02:30 does not exist: runs as the clock jumps, 03:00 EDT
        datetime(2026, 3, 9, 6, 30, tzinfo=UTC),  # 02:30 EDT
        datetime(2026, 3, 10, 6, 30, tzinfo=UTC),
    ]
    assert [r.business_date for r in runs] == [date(2026, 3, d) for d in (6, 7, 8, 9)]


def test_fall_back_runs_a_repeated_wall_time_once() -> None:
    flow = nightly("30 1 * * *")
    runs = due_runs(flow, MIDNIGHT_NY, local(NY, 2026, 10, 30, 12, 0), local(NY, 2026, 11, 3, 12, 0))
    assert [r.scheduled_at for r in runs] == [
        datetime(2026, 10, 31, 5, 30, tzinfo=UTC),  # 01:30 EDT
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT, first pass; not again at 01:30 EST
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),  # 01:30 EST
        datetime(2026, 11, 3, 6, 30, tzinfo=UTC),
    ]
    assert [r.business_date for r in runs] == [date(2026, 10, d) for d in (30, 31)] + [
        date(2026, 11, d) for d in (1, 2)
    ]


def test_a_tick_during_the_repeated_hour_does_not_rerun() -> None:
    flow = nightly("30 1 * * *")
    ran_at = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second_pass = local(NY, 2026, 11, 1, 1, 45, fold=1)  # 01:45 EST, after the clock went back
    assert due_runs(flow, MIDNIGHT_NY, ran_at, second_pass) == []


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 8), 23), (date(2026, 11, 1), 24), (date(2026, 6, 1), 24)],
)
def test_an_hourly_schedule_across_dst_has_no_duplicate_instants(day: date, hours: int) -> None:
    start = datetime.combine(day, datetime.min.time(), tzinfo=NY).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=NY).astimezone(UTC)
    instants = list(occurrences("0 * * * *", "America/New_York", start - timedelta(seconds=1), end))
    instants = [i for i in instants if i < end]
    assert len(instants) == len(set(instants)) == hours
    assert instants == sorted(instants)


@settings(max_examples=25, deadline=None)
@given(
    timezone=st.sampled_from(
        ["America/New_York", "Europe/London", "Australia/Sydney", "America/Santiago", "Asia/Kolkata", "UTC"]
    ),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    year=st.sampled_from([2025, 2026]),
)
def test_a_daily_schedule_closes_every_business_date_exactly_once(
    timezone: str, hour: int, minute: int, year: int
) -> None:
    location = Location(id="x", name="X", timezone=timezone, day_start="04:00")
    start = datetime(year, 1, 1, tzinfo=UTC)
    instants = occurrences(f"{minute} {hour} * * *", timezone, start, start + timedelta(days=366))
    dates = [closes_business_date(location, at) for at in instants]
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(dates))
    assert len(dates) in (365, 366)


# --- catch-up -----------------------------------------------------------------------------------


def two_day_outage() -> tuple[datetime, datetime]:
    """The hub last ran the 05:00 close on 2 March and came back at 06:00 on 5 March."""
    return local(NY, 2026, 3, 2, 5, 0), local(NY, 2026, 3, 5, 6, 0)


def test_catch_up_run_missed_runs_each_missed_business_date_once() -> None:
    last, now = two_day_outage()
    plan = plan_runs(nightly(catch_up=CatchUp.RUN_MISSED), DOWNTOWN, last, now)
    assert summary(plan.due) == [
        (date(2026, 3, 2), local(NY, 2026, 3, 3, 5, 0), True),
        (date(2026, 3, 3), local(NY, 2026, 3, 4, 5, 0), True),
        (date(2026, 3, 4), local(NY, 2026, 3, 5, 5, 0), False),
    ]
    assert plan.skipped == []


def test_catch_up_skip_missed_runs_only_the_latest_and_reports_the_rest() -> None:
    last, now = two_day_outage()
    plan = plan_runs(nightly(catch_up=CatchUp.SKIP_MISSED), DOWNTOWN, last, now)
    assert summary(plan.due) == [(date(2026, 3, 4), local(NY, 2026, 3, 5, 5, 0), False)]
    assert [r.business_date for r in plan.skipped] == [date(2026, 3, 2), date(2026, 3, 3)]


def test_catch_up_of_an_hourly_flow_runs_each_missed_date_once_plus_the_current_run() -> None:
    last, now = two_day_outage()
    runs = due_runs(nightly("0 * * * *"), DOWNTOWN, last, now)
    assert [(r.business_date, r.catch_up) for r in runs] == [
        (date(2026, 3, 2), True),
        (date(2026, 3, 3), True),
        (date(2026, 3, 4), False),
    ]
    assert runs[0].scheduled_at == local(NY, 2026, 3, 4, 3, 0)  # the last hourly run closing 2 March


def test_catch_up_looks_back_at_most_the_horizon() -> None:
    runs = due_runs(nightly(), DOWNTOWN, local(NY, 2025, 1, 1, 5, 0), local(NY, 2026, 3, 5, 6, 0))
    assert 30 <= len(runs) <= 36


# --- backfill -----------------------------------------------------------------------------------


def test_backfill_plans_one_run_per_business_date_across_dst() -> None:
    runs = list(backfill(nightly(), DOWNTOWN, date(2026, 3, 6), date(2026, 3, 9)))
    assert summary(runs) == [
        (date(2026, 3, 6), local(NY, 2026, 3, 7, 5, 0), True),
        (date(2026, 3, 7), local(NY, 2026, 3, 8, 5, 0), True),  # 05:00 EDT on the short day
        (date(2026, 3, 8), local(NY, 2026, 3, 9, 5, 0), True),
        (date(2026, 3, 9), local(NY, 2026, 3, 10, 5, 0), True),
    ]


def test_backfill_of_a_weekly_flow_uses_the_end_of_each_business_day() -> None:
    runs = list(backfill(nightly("0 5 * * 1"), DOWNTOWN, date(2026, 3, 4), date(2026, 3, 5)))
    assert [r.scheduled_at for r in runs] == [local(NY, 2026, 3, 5, 4, 0), local(NY, 2026, 3, 6, 4, 0)]


def test_backfill_refuses_a_day_that_has_not_ended_and_a_reversed_range() -> None:
    now = local(NY, 2026, 3, 10, 3, 0)  # 9 March still trading
    assert len(list(backfill(nightly(), DOWNTOWN, date(2026, 3, 7), date(2026, 3, 8), now=now))) == 2
    with pytest.raises(ValueError, match="business date 2026-03-09 at location downtown has not ended"):
        list(backfill(nightly(), DOWNTOWN, date(2026, 3, 8), date(2026, 3, 9), now=now))
    with pytest.raises(ValueError, match="the start is after the end"):
        list(backfill(nightly(), DOWNTOWN, date(2026, 3, 9), date(2026, 3, 8)))


# --- lateness -----------------------------------------------------------------------------------


def test_a_flow_is_late_when_the_business_date_did_not_succeed_by_expected_by() -> None:
    flow = nightly(expected_by="06:00")
    at_0630 = local(NY, 2026, 3, 10, 6, 30)
    [late] = late_flows([flow], [DOWNTOWN], {("nightly_close", "downtown"): date(2026, 3, 8)}, at_0630)
    assert (late.flow_id, late.location_id, late.business_date) == (
        "nightly_close",
        "downtown",
        date(2026, 3, 9),
    )
    assert late.expected_by == local(NY, 2026, 3, 10, 6, 0)
    assert (late.last_success, late.minutes_late) == (date(2026, 3, 8), 30)
    assert late_flows([flow], [DOWNTOWN], {("nightly_close", "downtown"): date(2026, 3, 9)}, at_0630) == []


def test_before_the_deadline_only_the_previous_date_is_expected() -> None:
    flow = nightly(expected_by="06:00")
    at_0530 = local(NY, 2026, 3, 10, 5, 30)
    assert late_flows([flow], [DOWNTOWN], {("nightly_close", "downtown"): date(2026, 3, 8)}, at_0530) == []
    [never] = late_flows([flow], [DOWNTOWN], {}, at_0530)
    assert (never.business_date, never.last_success) == (date(2026, 3, 8), None)


def test_lateness_follows_each_location_clock_and_ignores_flows_without_expected_by() -> None:
    now = local(NY, 2026, 3, 10, 7, 0)  # 04:00 in Los Angeles: the airport is not due yet
    flows = [nightly(expected_by="06:00"), nightly(id="hourly_sales")]
    success = {
        ("nightly_close", "downtown"): date(2026, 3, 8),
        ("nightly_close", "airport"): date(2026, 3, 8),
    }
    late = late_flows(flows, [DOWNTOWN, AIRPORT], success, now)
    assert [(x.flow_id, x.location_id) for x in late] == [("nightly_close", "downtown")]


def test_an_expected_by_before_the_day_start_falls_on_the_following_night() -> None:
    flow = nightly(expected_by="03:00")
    # 9 March ends at 04:00 on the 10th, so its 03:00 deadline is on the 11th.
    assert (
        late_flows(
            [flow],
            [DOWNTOWN],
            {("nightly_close", "downtown"): date(2026, 3, 8)},
            local(NY, 2026, 3, 10, 12, 0),
        )
        == []
    )
    [late] = late_flows([flow], [DOWNTOWN], {}, local(NY, 2026, 3, 11, 3, 5))
    assert (late.business_date, late.minutes_late) == (date(2026, 3, 9), 5)


# --- which flows run where ----------------------------------------------------------------------


def test_scheduled_pairs_follow_the_locations_both_systems_serve() -> None:
    def system(id_: str, locations: list[str]) -> System:
        return System(id=id_, kind=SystemKind.POS, connector="generic_pos", owner="ops", locations=locations)

    catalog = Catalog(
        locations=[DOWNTOWN, AIRPORT],
        systems=[system("pos", []), system("back_office", ["airport"])],
        flows=[nightly(), nightly(id="orders", trigger=Trigger.EVENT, schedule=None)],
    )
    assert [(f.id, loc.id) for f, loc in scheduled_pairs(catalog)] == [("nightly_close", "airport")]
