"""Hours from punches: breaks, the business date of a night shift, open and corrected punches."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from expediter.errors import RejectedInput
from expediter.operations.labor.hours import hours_from_seconds, worked_shifts

from .punches import LA, at, punch


def test_unpaid_breaks_are_excluded_and_paid_breaks_included() -> None:
    shift = worked_shifts([punch("2026-03-02 10:00", 8, unpaid_break=0.5, paid_break=0.25)], LA).shifts[0]
    assert shift.worked_seconds == int(7.5 * 3600)


def test_a_shift_across_midnight_belongs_to_the_date_it_started() -> None:
    shift = worked_shifts([punch("2026-03-06 18:00", 10.5, unpaid_break=0.5)], LA).shifts[0]
    assert shift.business_date == date(2026, 3, 6)
    assert shift.worked_seconds == 10 * 3600


def test_a_shift_over_the_dst_change_counts_real_hours() -> None:
    # 2026-03-08 02:00 Los Angeles clocks jump to 03:00: 20:00 to 05:00 on the wall is 8 real hours
    p = punch("2026-03-07 20:00", 8)
    assert p.clock_out is not None and p.clock_out.astimezone(at("2026-03-08 00:00").tzinfo).hour == 5
    assert worked_shifts([p], LA).shifts[0].worked_seconds == 8 * 3600


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
