"""The simulator's clock: minutes after local midnight of a business date, turned into instants.

Times past 24:00 (``26 * 60`` is 02:00 the next morning) still belong to the business date as long
as they are before the location's day start, which is how a bar's last orders are booked.
"""

from __future__ import annotations

import random
import zlib
from datetime import UTC, date, datetime, time, timedelta

from expediter.model.location import Location
from expediter.model.time import zone


def local_instant(location: Location, business_date: date, minutes: float) -> datetime:
    """The UTC instant ``minutes`` after local midnight starting ``business_date``, on wall-clock time."""
    midnight = datetime.combine(business_date, time(0), tzinfo=zone(location.timezone))
    return (midnight + timedelta(minutes=minutes)).astimezone(UTC)


def seeded_rng(seed: int, location: Location, business_date: date, stream: str) -> random.Random:
    """An independent, reproducible random stream per (seed, location, day, purpose).

    String seeds are hashed with SHA-512 by :mod:`random`, so they do not depend on
    ``PYTHONHASHSEED`` and give the same numbers on every run and machine.
    """
    return random.Random(f"{seed}:{location.id}:{business_date.isoformat()}:{stream}")


def stable_number(text: str) -> int:
    """A small number derived from ``text`` that is the same on every run (unlike ``hash``)."""
    return zlib.crc32(text.encode())
