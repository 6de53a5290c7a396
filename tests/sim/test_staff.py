from __future__ import annotations

from datetime import date, timedelta

from expediter.model.labor import TimePunch
from expediter.model.time import zone
from expediter.sim.day import DaySimulation
from expediter.sim.menu import JOBS, staff_roster
from expediter.sim.staff import simulate_punches
from tests.sim.places import DAY, LOS_ANGELES, NEW_YORK


def test_punches_are_sane_shifts_with_breaks_inside(full_day: DaySimulation) -> None:
    roster = {employee.id for employee in staff_roster(NEW_YORK)}
    assert full_day.punches
    for punch in full_day.punches:
        assert punch.employee_id in roster
        assert punch.clock_out is not None and punch.clock_out > punch.clock_in
        assert NEW_YORK.business_date_for(punch.clock_in) == DAY
        assert NEW_YORK.business_date_for(punch.clock_out) == DAY
        assert punch.hourly_wage == JOBS[punch.job_code].hourly_wage
        length = punch.clock_out - punch.clock_in
        for rest in punch.breaks:
            assert rest.end is not None
            assert punch.clock_in < rest.start < rest.end < punch.clock_out
        meals = [b for b in punch.breaks if not b.paid]
        assert len(meals) == (1 if length > timedelta(hours=6) else 0), punch.id
        assert all(b.end - b.start == timedelta(minutes=30) for b in meals if b.end)


def test_night_crew_clocks_out_after_midnight_and_tipped_staff_declare_cash(
    full_day: DaySimulation,
) -> None:
    tz = zone(NEW_YORK.timezone)
    crossing = [p for p in full_day.punches if p.clock_out and p.clock_out.astimezone(tz).date() > DAY]
    assert {p.job_code for p in crossing} >= {"bartender", "manager"}
    for punch in full_day.punches:
        tipped = JOBS[punch.job_code].tipped
        assert (punch.declared_cash_tips.amount > 0) == tipped, punch.id
        assert punch.declared_cash_tips.amount % 100 == 0
    assert any(b.paid for p in full_day.punches for b in p.breaks)


def test_orders_are_rung_by_staff_on_the_clock(full_day: DaySimulation) -> None:
    shifts: dict[str, list[TimePunch]] = {}
    for punch in full_day.punches:
        shifts.setdefault(punch.employee_id, []).append(punch)
    for order in full_day.orders:
        if order.employee_id is None:
            continue
        worked = shifts[order.employee_id]
        assert any(p.clock_in <= order.opened_at < (p.clock_out or order.opened_at) for p in worked)


def test_punches_follow_the_wall_clock_on_a_dst_change() -> None:
    fall_back = date(2026, 11, 1)
    for punch in simulate_punches(LOS_ANGELES, fall_back, seed=2):
        assert punch.clock_out is not None and punch.clock_out > punch.clock_in
        assert LOS_ANGELES.business_date_for(punch.clock_out) == fall_back
