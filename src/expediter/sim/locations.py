"""Simulated locations ``L001``, ``L002``, … spread over the US time zones, named like a real group."""

from __future__ import annotations

from expediter.model.location import Location

BRAND = "Copper Kettle Grill"

_SITES: list[tuple[str, str]] = [
    ("Brooklyn", "America/New_York"),
    ("Chicago Loop", "America/Chicago"),
    ("Denver LoDo", "America/Denver"),
    ("Santa Monica", "America/Los_Angeles"),
    ("Boston Seaport", "America/New_York"),
    ("Austin South Congress", "America/Chicago"),
    ("Phoenix Arcadia", "America/Phoenix"),
    ("Seattle Capitol Hill", "America/Los_Angeles"),
    ("Atlanta Midtown", "America/New_York"),
    ("Nashville Gulch", "America/Chicago"),
    ("Salt Lake City", "America/Denver"),
    ("San Diego Gaslamp", "America/Los_Angeles"),
]


def location_id(number: int) -> str:
    """``1`` → ``L001`` (four digits past 999)."""
    return f"L{number:03d}"


def sim_location(number: int, currency: str = "USD") -> Location:
    """Location ``number`` (from 1); sites repeat with a suffix past the first dozen."""
    city, timezone = _SITES[(number - 1) % len(_SITES)]
    round_ = (number - 1) // len(_SITES)
    name = f"{BRAND} {city}" + (f" {round_ + 1}" if round_ else "")
    return Location(id=location_id(number), name=name, timezone=timezone, currency=currency)


def sim_locations(count: int, currency: str = "USD") -> list[Location]:
    """The first ``count`` simulated locations, ``L001`` first."""
    return [sim_location(number, currency) for number in range(1, count + 1)]
