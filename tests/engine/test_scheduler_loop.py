"""The scheduler loop on a simulated clock: it sleeps until runs are due, catches up, and stops."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from expediter.catalog.schema import CatchUp, Flow, Level, Trigger
from expediter.engine.scheduler import PlannedRun, Scheduler
from expediter.model.location import Location

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
DOWNTOWN = Location(id="downtown", name="Downtown", timezone="America/New_York")
AIRPORT = Location(id="airport", name="Airport", timezone="America/Los_Angeles")


def nightly(catch_up: CatchUp = CatchUp.RUN_MISSED, schedule: str = "0 5 * * *") -> Flow:
    return Flow(
        id="nightly_close",
        from_="pos",
        to="back_office",
        data="sales_summary",
        level=Level.FILE,
        trigger=Trigger.SCHEDULE,
        owner="ops",
        schedule=schedule,
        catch_up=catch_up,
    )


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


class SimulatedClock:
    """Time moves only when the scheduler sleeps: no real waiting, no races."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


def test_after_a_two_day_outage_the_loop_catches_up_then_runs_on_time() -> None:
    flow = nightly()
    clock = SimulatedClock(local(NY, 2026, 3, 5, 6, 0))
    last = {
        ("nightly_close", "downtown"): local(NY, 2026, 3, 2, 5, 0),
        ("nightly_close", "airport"): local(LA, 2026, 3, 2, 5, 0),
    }
    started: list[tuple[datetime, PlannedRun]] = []

    async def run_job(run: PlannedRun) -> None:
        started.append((clock.now, run))
        if run.location_id == "downtown" and run.business_date == date(2026, 3, 5):
            scheduler.stop()

    scheduler = Scheduler(
        [(flow, DOWNTOWN), (flow, AIRPORT)],
        run_job,
        last_runs=last,
        clock=clock,
        sleep=clock.sleep,
        max_sleep=3600,
    )
    asyncio.run(scheduler.run())

    by_location = {
        loc: [(r.business_date.day, r.catch_up) for _, r in started if r.location_id == loc]
        for loc in ("downtown", "airport")
    }
    assert by_location == {
        "downtown": [(2, True), (3, True), (4, False), (5, False)],
        "airport": [(2, True), (3, False), (4, False)],
    }
    assert all(at >= run.scheduled_at for at, run in started)  # never early
    on_time = [(at, run.scheduled_at) for at, run in started if at > local(NY, 2026, 3, 5, 6, 0)]
    assert on_time and all(at == scheduled for at, scheduled in on_time)  # woke exactly when due
    assert scheduler.cursors[("nightly_close", "downtown")] == local(NY, 2026, 3, 6, 5, 0)


def test_skip_missed_reports_the_skipped_dates_and_runs_the_latest() -> None:
    clock = SimulatedClock(local(NY, 2026, 3, 5, 6, 0))
    ran: list[PlannedRun] = []
    skipped: list[PlannedRun] = []

    async def run_job(run: PlannedRun) -> None:
        ran.append(run)

    async def on_skipped(run: PlannedRun) -> None:
        skipped.append(run)

    scheduler = Scheduler(
        [(nightly(CatchUp.SKIP_MISSED), DOWNTOWN)],
        run_job,
        last_runs={("nightly_close", "downtown"): local(NY, 2026, 3, 2, 5, 0)},
        on_skipped=on_skipped,
        clock=clock,
        sleep=clock.sleep,
    )
    assert asyncio.run(scheduler.tick()) == ran
    assert [r.business_date.day for r in ran] == [4]
    assert [r.business_date.day for r in skipped] == [2, 3]


def test_a_failing_job_does_not_stop_the_loop() -> None:
    clock = SimulatedClock(local(NY, 2026, 3, 5, 4, 30))
    attempts: list[date] = []

    async def run_job(run: PlannedRun) -> None:
        attempts.append(run.business_date)
        if len(attempts) == 3:
            scheduler.stop()
        raise RuntimeError("back office rejected the file")

    scheduler = Scheduler([(nightly(), DOWNTOWN)], run_job, clock=clock, sleep=clock.sleep, max_sleep=3600)
    asyncio.run(scheduler.run())
    assert attempts == [date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 6)]


def test_a_flow_whose_schedule_cannot_run_is_reported_and_the_others_run_on() -> None:
    clock = SimulatedClock(local(NY, 2026, 3, 5, 4, 30))
    bad = msgspec.structs.replace(nightly(schedule="0 5 31 2 *"), id="never")  # 31 February
    ran: list[tuple[str, date]] = []
    reported: list[tuple[str, str, str]] = []

    async def run_job(run: PlannedRun) -> None:
        ran.append((run.flow_id, run.business_date))
        if len(ran) == 3:
            scheduler.stop()

    async def on_error(flow: Flow, location: Location, exc: Exception) -> None:
        reported.append((flow.id, location.id, str(exc)))

    pairs = [(bad, DOWNTOWN), (nightly(), DOWNTOWN)]
    scheduler = Scheduler(pairs, run_job, on_error=on_error, clock=clock, sleep=clock.sleep, max_sleep=3600)
    asyncio.run(scheduler.run())
    assert ran == [("nightly_close", date(2026, 3, d)) for d in (4, 5, 6)]
    assert len(reported) >= 3 and {r[:2] for r in reported} == {("never", "downtown")}
    assert "never happens" in reported[0][2]


def test_without_history_nothing_runs_before_the_next_occurrence() -> None:
    clock = SimulatedClock(local(NY, 2026, 3, 5, 6, 0))

    async def run_job(run: PlannedRun) -> None:
        raise AssertionError(f"nothing is due yet, got {run}")

    scheduler = Scheduler([(nightly(), DOWNTOWN)], run_job, clock=clock, sleep=clock.sleep)
    assert asyncio.run(scheduler.tick()) == []
    assert scheduler.next_wakeup() == local(NY, 2026, 3, 6, 5, 0)


def test_stop_wakes_a_sleeping_scheduler() -> None:
    async def scenario() -> bool:
        async def run_job(run: PlannedRun) -> None:
            raise AssertionError("a yearly flow is not due")

        scheduler = Scheduler([(nightly(schedule="0 5 1 1 *"), DOWNTOWN)], run_job)
        task = asyncio.create_task(scheduler.run())
        await asyncio.sleep(0)
        scheduler.stop()
        await asyncio.wait_for(task, timeout=30)  # a guard against a hang, not a timing check
        return task.done()

    assert asyncio.run(scenario())
