"""A simulation run over many locations and days, written as JSON lines.

One canonical :class:`~expediter.model.order.Order` (or ``TimePunch``) per line, encoded by msgspec,
so files are byte-identical for the same arguments and can be read back with
``msgspec.json.Decoder(Order)`` line by line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

import msgspec

from expediter.model.labor import TimePunch
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.sim.config import DEFAULT_CONFIG, SimConfig
from expediter.sim.day import iter_orders
from expediter.sim.staff import simulate_punches

_ENCODER = msgspec.json.Encoder()


class Run(msgspec.Struct, frozen=True, kw_only=True):
    """Which locations, which days, which seed: everything the output depends on."""

    locations: list[Location]
    start: date
    days: int = 1
    seed: int = 0
    scale: float = 1.0
    config: SimConfig = DEFAULT_CONFIG

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    def orders(self) -> Iterator[Order]:
        """Day by day, location by location, each location-day in opening order."""
        for business_date in self.dates():
            for location in self.locations:
                yield from iter_orders(location, business_date, self.seed, self.scale, config=self.config)

    def punches(self) -> Iterator[TimePunch]:
        for business_date in self.dates():
            for location in self.locations:
                yield from simulate_punches(location, business_date, self.seed)


def write_jsonl(
    out: BinaryIO, records: Iterable[msgspec.Struct], on_record: Callable[[], None] | None = None
) -> int:
    """Write one JSON document per line; returns how many were written."""
    count = 0
    buffer = bytearray()
    for record in records:
        _ENCODER.encode_into(record, buffer, len(buffer))
        buffer.extend(b"\n")
        count += 1
        if len(buffer) > 1 << 20:
            out.write(buffer)
            buffer.clear()
        if on_record is not None:
            on_record()
    out.write(buffer)
    return count


def write_jsonl_file(
    path: Path, records: Iterable[msgspec.Struct], on_record: Callable[[], None] | None = None
) -> int:
    """Write to ``path`` through a temporary name, so a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        count = write_jsonl(out, records, on_record)
    partial.replace(path)
    return count


def read_orders(path: Path) -> list[Order]:
    """Read back a file written by :func:`write_jsonl_file` (tests, the demo's replays)."""
    decoder = msgspec.json.Decoder(Order)
    with path.open("rb") as source:
        return [decoder.decode(line) for line in source if line.strip()]


def read_punches(path: Path) -> list[TimePunch]:
    decoder = msgspec.json.Decoder(TimePunch)
    with path.open("rb") as source:
        return [decoder.decode(line) for line in source if line.strip()]
