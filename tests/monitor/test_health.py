from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from expediter.catalog.schema import Flow, Level, Trigger
from expediter.monitor.health import FlowStatus, Health, flow_health

NEW_YORK = "America/New_York"
# 2026-03-10 12:00 in New York (EDT, UTC-4)
NOON = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def nightly(**changes: object) -> Flow:
    fields: dict[str, object] = {
        "id": "sales",
        "from_": "pos",
        "to": "bo",
        "data": "sales_summary",
        "level": Level.FILE,
        "trigger": Trigger.SCHEDULE,
        "owner": "Lee",
        "schedule": "30 4 * * *",
        "expected_by": "06:00",
    }
    fields.update(changes)
    return Flow(**fields)  # type: ignore[arg-type]


def realtime(freshness: int | None = None) -> Flow:
    return Flow(
        id="orders",
        from_="pos",
        to="kds",
        data="orders",
        level=Level.REALTIME,
        trigger=Trigger.EVENT,
        owner="Sam",
        freshness_minutes=freshness,
    )


def ok_at(ts: datetime) -> FlowStatus:
    return FlowStatus(last_transfer_at=ts, last_outcome="succeeded", last_success_at=ts)


def test_never_ran() -> None:
    assert flow_health(realtime(), None, NOON) == Health.NEVER_RAN
    assert flow_health(realtime(), FlowStatus(), NOON) == Health.NEVER_RAN


@pytest.mark.parametrize("outcome", ["failed", "dead", "retrying"])
def test_failing_when_the_last_transfer_failed(outcome: str) -> None:
    status = FlowStatus(
        last_transfer_at=NOON, last_outcome=outcome, last_success_at=NOON - timedelta(hours=1)
    )
    assert flow_health(realtime(), status, NOON) == Health.FAILING


def test_a_nightly_run_that_succeeded_today_is_healthy() -> None:
    ran = datetime(2026, 3, 10, 8, 31, tzinfo=UTC)  # 04:31 local
    assert flow_health(nightly(), ok_at(ran), NOON, NEW_YORK) == Health.HEALTHY


def test_a_nightly_run_missing_after_its_deadline_is_late() -> None:
    yesterday = datetime(2026, 3, 9, 8, 31, tzinfo=UTC)
    assert flow_health(nightly(), ok_at(yesterday), NOON, NEW_YORK) == Health.LATE


def test_before_the_deadline_it_is_not_late_yet() -> None:
    yesterday = datetime(2026, 3, 9, 8, 31, tzinfo=UTC)
    five_am = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 05:00 local, deadline 06:00
    assert flow_health(nightly(), ok_at(yesterday), five_am, NEW_YORK) == Health.HEALTHY


def test_the_schedule_runs_on_the_location_clock() -> None:
    ran_utc_morning = datetime(2026, 3, 10, 4, 31, tzinfo=UTC)  # 00:31 in New York: before 04:30
    assert flow_health(nightly(), ok_at(ran_utc_morning), NOON, "UTC") == Health.HEALTHY
    assert flow_health(nightly(), ok_at(ran_utc_morning), NOON, NEW_YORK) == Health.LATE


def test_without_expected_by_an_hour_of_grace() -> None:
    yesterday = datetime(2026, 3, 9, 8, 31, tzinfo=UTC)
    flow = nightly(expected_by=None)
    at_five = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 05:00 local, 30 min after 04:30
    at_six = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    assert flow_health(flow, ok_at(yesterday), at_five, NEW_YORK) == Health.HEALTHY
    assert flow_health(flow, ok_at(yesterday), at_six, NEW_YORK) == Health.LATE


def test_a_scheduled_flow_that_never_ran_is_late_once_a_run_due_while_watched_is_missed() -> None:
    watched = FlowStatus(watched_since=NOON - timedelta(days=2))
    assert flow_health(nightly(), watched, NOON, NEW_YORK) == Health.LATE
    three_am = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # 03:00 local: yesterday's run is the one
    assert flow_health(nightly(), watched, three_am, NEW_YORK) == Health.LATE


def test_a_new_hub_is_not_late_for_a_run_due_before_it_watched_the_flow() -> None:
    started_at_nine = FlowStatus(watched_since=datetime(2026, 3, 10, 13, 0, tzinfo=UTC))  # 09:00 local
    assert flow_health(nightly(), started_at_nine, NOON, NEW_YORK) == Health.NEVER_RAN
    assert flow_health(nightly(), None, NOON, NEW_YORK) == Health.NEVER_RAN  # nothing watched it
    next_morning = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)  # 07:00 local, the next day
    assert flow_health(nightly(), started_at_nine, next_morning, NEW_YORK) == Health.LATE


def test_idle_after_freshness_minutes() -> None:
    last = NOON - timedelta(minutes=45)
    assert flow_health(realtime(freshness=30), ok_at(last), NOON) == Health.IDLE
    assert flow_health(realtime(freshness=60), ok_at(last), NOON) == Health.HEALTHY
    assert flow_health(realtime(), ok_at(last), NOON) == Health.HEALTHY
