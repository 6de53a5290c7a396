"""Hours from punches: breaks, the business date of a night shift, open and corrected punches."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from expediter.errors import RejectedInput
from expediter.model.labor import LaborSettings
from expediter.operations.labor.hours import hours_from_seconds, worked_shifts

from .punches import LA, at, punch


def test_unpaid_breaks_are_excluded_and_paid_breaks_included() -> None:
    shift = worked_shifts([punch("2026-03-02 10:00", 8, unpaid_break=0.5, paid_break=0.25)], LA).shifts[0]
    assert shift.worked_seconds == int(7.5 * 3600)


def test_a_shift_across_midnight_stays_on_the_workday_it_started() -> None:
    # 18:00 to 02:00 ends before the 04:00 workday start: one workday, 8 h minus the 30-min break
    (shift,) = worked_shifts([punch("2026-03-06 18:00", 8, unpaid_break=0.5)], LA).shifts
    assert shift.business_date == date(2026, 3, 6)
    assert shift.worked_seconds == int(7.5 * 3600)


def test_a_shift_across_the_workday_start_splits_its_hours() -> None:
    """Labor Code §500(a): the workday is a fixed 24 hours; hours fall in the workday they are
    worked in. 18:00 Friday to 04:30 Saturday, 30-min break at 19:00, workday from 04:00:
    Friday 18:00-04:00 = 10 h − 0.5 h = 9.5 h; Saturday 04:00-04:30 = 0.5 h."""
    pieces = worked_shifts([punch("2026-03-06 18:00", 10.5, unpaid_break=0.5)], LA).shifts
    assert [(p.business_date, p.worked_seconds) for p in pieces] == [
        (date(2026, 3, 6), int(9.5 * 3600)),
        (date(2026, 3, 7), int(0.5 * 3600)),
    ]
    assert pieces[0].declared_cash_tips == pieces[0].declared_cash_tips  # on the first piece only


def test_the_workday_start_is_a_location_setting() -> None:
    """A midnight workday splits a 22:00-06:00 shift 2 h + 6 h."""
    midnight = msgspec.structs.replace(LA, labor=LaborSettings(workday_start="00:00"))
    pieces = worked_shifts([punch("2026-03-02 22:00", 8)], midnight).shifts
    assert [(p.business_date, p.worked_seconds // 3600) for p in pieces] == [
        (date(2026, 3, 2), 2),
        (date(2026, 3, 3), 6),
    ]


def test_an_unpaid_break_under_20_minutes_is_worked_time() -> None:
    """29 CFR 785.18: rest periods of 5 to about 20 minutes are hours worked, whatever the flag."""
    (shift,) = worked_shifts([punch("2026-03-02 10:00", 8, unpaid_break=0.25)], LA).shifts
    assert shift.worked_seconds == 8 * 3600


def test_a_shift_over_the_dst_change_counts_real_hours() -> None:
    # 2026-03-08 02:00 Los Angeles clocks jump to 03:00: 20:00 to 05:00 on the wall is 8 real hours
    p = punch("2026-03-07 20:00", 8)
    assert p.clock_out is not None and p.clock_out.astimezone(at("2026-03-08 00:00").tzinfo).hour == 5
    assert sum(s.worked_seconds for s in worked_shifts([p], LA).shifts) == 8 * 3600


def test_open_punches_are_set_apart_not_paid() -> None:
    open_punch = msgspec.structs.replace(punch("2026-03-02 10:00", 4), clock_out=None)
    split = worked_shifts([open_punch, punch("2026-03-02 10:00", 4, employee="e2")], LA)
    assert [p.id for p in split.open_punches] == [open_punch.id]
    assert [s.employee_id for s in split.shifts] == ["e2"]


def test_the_latest_version_of_a_punch_wins() -> None:
    first = punch("2026-03-02 10:00", 4)
    corrected = msgspec.structs.replace(punch("2026-03-02 10:00", 6), id=first.id, version=2)
    (shift,) = worked_shifts([corrected, first], LA).shifts
    assert shift.worked_seconds == 6 * 3600


def test_a_punch_that_ends_before_it_starts_is_rejected_with_its_id() -> None:
    backwards = punch("2026-03-02 10:00", -1)
    with pytest.raises(RejectedInput, match=backwards.id):
        worked_shifts([backwards], LA)


def test_a_punch_at_an_unknown_location_is_rejected() -> None:
    with pytest.raises(RejectedInput, match="unknown location"):
        worked_shifts([punch("2026-03-02 10:00", 4)], {"other": LA})


def test_hours_round_half_even_to_hundredths() -> None:
    assert str(hours_from_seconds(7 * 3600 + 18)) == "7.00"  # 7.005 h → 7.00 (half-even)
    assert str(hours_from_seconds(7 * 3600 + 54)) == "7.02"  # 7.015 h → 7.02


def test_overlapping_and_duplicated_unpaid_breaks_are_taken_off_once() -> None:
    from datetime import timedelta

    from expediter.model.labor import Break
    from expediter.operations.labor.hours import worked_seconds

    base = punch("2026-03-02 10:00", 8)
    start = base.clock_in + timedelta(hours=4)
    first = Break(start=start, end=start + timedelta(minutes=30))
    overlapping = Break(start=start + timedelta(minutes=15), end=start + timedelta(minutes=45))
    assert worked_seconds(msgspec.structs.replace(base, breaks=[first, overlapping])) == int(7.25 * 3600)
    assert worked_seconds(msgspec.structs.replace(base, breaks=[first, first])) == int(7.5 * 3600)
    # A break running past clock-out counts only up to clock-out.
    late = Break(start=base.clock_in + timedelta(hours=7, minutes=30), end=base.clock_in + timedelta(hours=9))
    assert worked_seconds(msgspec.structs.replace(base, breaks=[late, first])) == (7 * 3600)
