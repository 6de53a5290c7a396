"""Business dates follow the location's clock and day start, across midnight and DST."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expediter.model.location import Location
from expediter.model.time import NaiveTimestamp, business_date_at, business_day_bounds, parse_day_start

NY = "America/New_York"


def test_order_at_0130_local_belongs_to_the_evening_before() -> None:
    # 01:30 in New York on 28 Nov is 06:30 UTC: still the business day of 27 Nov.
    ts = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
    assert business_date_at(ts, NY, time(4, 0)) == date(2026, 11, 27)


def test_after_day_start_is_the_same_day() -> None:
    ts = datetime(2026, 11, 28, 9, 5, tzinfo=UTC)  # 04:05 local
    assert business_date_at(ts, NY, time(4, 0)) == date(2026, 11, 28)


def test_utc_date_is_not_the_business_date() -> None:
    # 21:00 local on 27 Nov is already 28 Nov in UTC.
    ts = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert ts.date() == date(2026, 11, 28)
    assert Location(id="l", name="L", timezone=NY).business_date_for(ts) == date(2026, 11, 27)


def test_spring_forward_day_is_23_hours() -> None:
    # Clocks jump at 02:00 on 8 March, inside the business day that started at 04:00 on 7 March.
    start, end = business_day_bounds(date(2026, 3, 7), NY, time(4, 0))
    assert (end - start).total_seconds() == 23 * 3600


def test_fall_back_day_is_25_hours_and_the_repeated_hour_stays_on_the_night_before() -> None:
    start, end = business_day_bounds(date(2026, 10, 31), NY, time(4, 0))
    assert (end - start).total_seconds() == 25 * 3600
    # 01:30 local happens twice on 1 Nov 2026; both belong to the business day of 31 Oct.
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert business_date_at(first, NY) == business_date_at(second, NY) == date(2026, 10, 31)


def test_naive_timestamp_is_refused() -> None:
    with pytest.raises(NaiveTimestamp):
        business_date_at(datetime(2026, 11, 27, 12, 0), NY)


def test_bad_day_start_and_zone_say_how_to_fix() -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_day_start("4am")
    with pytest.raises(ValueError, match="IANA"):
        business_date_at(datetime(2026, 1, 1, tzinfo=UTC), "Mars/Olympus")


def test_fall_back_over_day_start_starts_the_day_at_the_first_reading() -> None:
    """Day start 01:30 on the night New York falls back: the new day starts at the first 01:30
    (EDT), and the repeated hour after it (01:00–01:59 EST) stays on the new day."""
    start = time(1, 30)
    assert business_day_bounds(date(2026, 10, 31), NY, start)[1] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert business_date_at(datetime(2026, 11, 1, 5, 20, tzinfo=UTC), NY, start) == date(2026, 10, 31)
    assert business_date_at(datetime(2026, 11, 1, 5, 40, tzinfo=UTC), NY, start) == date(2026, 11, 1)
    after_the_change = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)  # 01:10 EST, the clock's second 01:10
    assert business_date_at(after_the_change, NY, start) == date(2026, 11, 1)


def test_spring_forward_over_day_start_starts_the_day_at_the_jump() -> None:
    """Day start 02:30 does not exist on 8 March 2026 in New York (02:00 EST → 03:00 EDT): the day
    starts at the jump, 07:00 UTC."""
    start = time(2, 30)
    jump = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert business_day_bounds(date(2026, 3, 8), NY, start)[0] == jump
    assert business_day_bounds(date(2026, 3, 7), NY, start)[1] == jump
    assert business_date_at(jump - timedelta(seconds=1), NY, start) == date(2026, 3, 7)
    assert business_date_at(jump, NY, start) == date(2026, 3, 8)
    assert business_date_at(datetime(2026, 3, 8, 7, 10, tzinfo=UTC), NY, start) == date(2026, 3, 8)


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from([NY, "Europe/London", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"]),
    st.times(max_value=time(5, 59)).map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_an_instants_business_date_is_the_day_whose_bounds_hold_it(
    moment: datetime, timezone: str, day_start: time
) -> None:
    ts = moment.replace(tzinfo=UTC)
    day = business_date_at(ts, timezone, day_start)
    start, end = business_day_bounds(day, timezone, day_start)
    assert start <= ts < end
