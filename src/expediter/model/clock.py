"""The hub's one clock: everything that asks "what time is it" asks :func:`now`.

In a restaurant the clock is the machine's own. Two things may set it instead, and every part of
the hub then agrees on the same time:

- the environment variable ``EXPEDITER_CLOCK_OFFSET`` (seconds, may be negative or fractional):
  every process started with it runs that far ahead of the machine's clock. The test suite uses it
  to run the time-sensitive tests on other dates (a DST night, 29 February, a year from now), with
  the hub processes they start living on the same date as the tests;
- :func:`use_clock`, which swaps the clock of this process for another :class:`Clock` (a
  :class:`ManualClock` moved by hand, say) until the ``with`` block ends.

Durations (timeouts, latencies) use :func:`time.monotonic` and never ask this clock.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

OFFSET_VARIABLE = "EXPEDITER_CLOCK_OFFSET"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock, moved by a fixed ``offset``."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ManualClock:
    """A clock that stands still until moved: timers and ages in tests come out exact."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    def set(self, instant: datetime) -> None:
        self.current = instant.astimezone(UTC)


def offset_from_environment() -> timedelta:
    """The offset ``EXPEDITER_CLOCK_OFFSET`` asks for; zero when it is unset."""
    text = os.environ.get(OFFSET_VARIABLE, "").strip()
    if not text:
        return timedelta(0)
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        raise ValueError(f"{OFFSET_VARIABLE} must be a number of seconds, not {text!r}") from None


def offset_to(instant: datetime) -> float:
    """The ``EXPEDITER_CLOCK_OFFSET`` that makes the clock read ``instant`` now."""
    return (instant - datetime.now(UTC)).total_seconds()


_current: Clock = SystemClock(offset_from_environment())


def now() -> datetime:
    """The current instant (UTC, timezone-aware) by the hub's clock."""
    return _current.now()


def now_iso() -> str:
    """:func:`now` as stored text: fixed-width UTC ISO, microseconds (text order is time order)."""
    return _current.now().isoformat(timespec="microseconds")


def unix_time() -> float:
    """:func:`now` as seconds since the epoch (for signature timestamps)."""
    return _current.now().timestamp()


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` this process's clock until the block ends."""
    global _current
    previous, _current = _current, clock
    try:
        yield clock
    finally:
        _current = previous
