"""Interchange and group control numbers that never repeat for a trading partner.

A partner's translator rejects (or silently drops) an interchange whose ISA13 it has seen before,
so a number must never be reused: not after a restart, and not after the hub's database is
restored from an old backup. A counter alone survives restarts but not restores (the restored
counter is behind the numbers already sent). So the next number is the larger of

- the stored counter + 1 (strictly increasing while the database lives), and
- the seconds since 2020-01-01 UTC (a monotonic floor the database cannot roll back).

A restored database starts again from the clock, which is past every number sent before the
restore as long as the hub never sent more interchanges than seconds elapsed: numbers issued in a
burst run ahead of the clock by the burst's size, and the clock catches up a second per number.
ISA13 has nine digits: the clock floor reaches 999,999,999 in 2051; from then numbers wrap to 1,
which partners accept because years have passed. The same number is used as the group's GS06
(one group per interchange we write), so both are unique per partner.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from expediter.model import clock

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
LARGEST = 999_999_999


def clock_floor(now: datetime) -> int:
    return int((now - EPOCH).total_seconds()) % LARGEST + 1


def next_control_number(last: int, now: datetime) -> int:
    """The number to use after ``last`` (0 when none was ever used) at ``now``."""
    candidate = max(last + 1, clock_floor(now))
    return candidate if candidate <= LARGEST else 1


class ControlNumbers(Protocol):
    """Hands out control numbers per trading partner (``qualifier:id`` of the receiver)."""

    def allocate(self, partner: str) -> int: ...


class InMemoryControlNumbers:
    """For reading and one-off writing without a hub (``expediter x12`` and tests): same rule,
    remembered only while the process lives."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def allocate(self, partner: str) -> int:
        number = next_control_number(self.last.get(partner, 0), clock.now())
        self.last[partner] = number
        return number
