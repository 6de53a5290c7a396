"""One simulated business day at one location: its checks and its time punches.

Checks open through a lunch rush (11:30–14:00) and a dinner rush (17:30–21:30) on the location's
own clock, with a happy hour between and a bar tail after midnight that still belongs to the
business date (day start 04:00). Ids are ``<location>-<yyyymmdd>-C<nnnn>`` in opening order, and
every random choice comes from a stream seeded by (seed, location, date), so the same arguments
give byte-identical output on every run.

``iter_orders`` yields checks one at a time for long runs; ``simulate_day`` collects them with
the day's punches.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import msgspec

from expediter.model.labor import TimePunch
from expediter.model.location import Location
from expediter.model.order import DiningOption, Line, Order, OrderSource, OrderState
from expediter.sim.checks import RINGERS, CheckWriter, menu_index, ring_desserts
from expediter.sim.clock import local_instant, seeded_rng
from expediter.sim.config import (
    DEFAULT_CONFIG,
    MARKETPLACE_PREFIX,
    MARKETPLACE_WEIGHTS,
    MARKETPLACES,
    CheckKind,
    SimConfig,
)
from expediter.sim.staff import BARTENDER, MANAGER, SERVER, Shift, plan_shifts, simulate_punches
from expediter.sim.tenders import employee_discount, pay, price_check, refund_one

LUNCH_RUSH = (11 * 60 + 30, 14 * 60)
DINNER_RUSH = (17 * 60 + 30, 21 * 60 + 30)

# (start, end, relative orders per minute) in local minutes after midnight of the business date.
_TRAFFIC: list[tuple[int, int, float]] = [
    (10 * 60 + 30, 11 * 60 + 30, 1.0),
    (11 * 60 + 30, 12 * 60, 5.0),
    (12 * 60, 13 * 60, 9.0),
    (13 * 60, 14 * 60, 6.0),
    (14 * 60, 17 * 60 + 30, 1.5),
    (17 * 60 + 30, 18 * 60 + 30, 6.0),
    (18 * 60 + 30, 20 * 60 + 30, 9.0),
    (20 * 60 + 30, 21 * 60 + 30, 5.0),
    (21 * 60 + 30, 23 * 60, 1.8),
    (23 * 60, 24 * 60, 1.2),
    (24 * 60, 26 * 60, 0.8),
]
_CUMULATIVE = list(itertools.accumulate((end - start) * rate for start, end, rate in _TRAFFIC))

_KINDS = tuple(CheckKind)
_DAYTIME_MIX = (58, 10, 10, 10, 12)
_HAPPY_HOUR_MIX = (35, 40, 10, 7, 8)
_LATE_MIX = (5, 80, 5, 0, 10)
_GUESTS = (1, 2, 3, 4, 5, 6, 7, 8)
_GUEST_WEIGHTS = (12, 38, 16, 18, 6, 5, 3, 2)
_REVENUE_CENTER = {CheckKind.TABLE: "dining_room", CheckKind.BAR: "bar"}


class DaySimulation(msgspec.Struct, kw_only=True):
    orders: list[Order]
    punches: list[TimePunch]


def opening_seconds(rng: random.Random, count: int) -> list[int]:
    """``count`` check-opening times (seconds after local midnight), sorted, following traffic."""
    total = _CUMULATIVE[-1]
    seconds = []
    for _ in range(count):
        point = rng.random() * total
        start, end, _rate = _TRAFFIC[bisect.bisect_right(_CUMULATIVE, point)]
        seconds.append(int((start + rng.random() * (end - start)) * 60))
    seconds.sort()
    return seconds


def _kind_at(rng: random.Random, minute: int, config: SimConfig) -> CheckKind:
    if minute >= 24 * 60:
        return CheckKind.BAR
    if minute >= 22 * 60:
        mix = _LATE_MIX
    elif config.happy_hour_start <= minute < min(config.happy_hour_end, DINNER_RUSH[0]):
        mix = _HAPPY_HOUR_MIX
    else:
        mix = _DAYTIME_MIX
    return rng.choices(_KINDS, mix)[0]


class _Staffing:
    """Who is on the clock when a check opens, so tips land on someone who was working."""

    def __init__(self, shifts: list[Shift]) -> None:
        self.shifts = shifts

    def on_shift(self, rng: random.Random, job_code: str, at: datetime) -> str | None:
        working = [s for s in self.shifts if s.job_code == job_code and s.start <= at < s.end]
        if working:
            return rng.choice(working).employee_id
        return None

    def server_for(self, rng: random.Random, kind: CheckKind, at: datetime) -> str | None:
        if kind in (CheckKind.ONLINE, CheckKind.MARKETPLACE):
            return None
        first = BARTENDER if kind is CheckKind.BAR else SERVER
        for job in (first, BARTENDER, SERVER, MANAGER):
            found = self.on_shift(rng, job, at)
            if found is not None:
                return found
        return None


class _Day:
    """The state shared by all checks of one location-day."""

    def __init__(self, location: Location, business_date: date, seed: int, config: SimConfig) -> None:
        self.location = location
        self.business_date = business_date
        self.config = config
        self.rng = seeded_rng(seed, location, business_date, "orders")
        self.index = menu_index(location.currency)
        self.staffing = _Staffing(plan_shifts(location, business_date, seed))
        self.prefix = f"{location.id}-{business_date:%Y%m%d}"

    def _duration(self, kind: CheckKind, guests: int, minute: int) -> timedelta:
        rng = self.rng
        if kind is CheckKind.TABLE:
            minutes = rng.randint(35, 70) + 6 * guests
        elif kind is CheckKind.BAR:
            minutes = rng.randint(15, 55 if minute >= 24 * 60 else 110)
        else:
            minutes = rng.randint(8, 25)
        return timedelta(minutes=minutes, seconds=rng.randint(0, 59))

    def orders(self, number: int, second: int) -> list[Order]:
        """The version(s) of check ``number`` opened ``second`` seconds after local midnight."""
        rng, config, currency = self.rng, self.config, self.location.currency
        minute = second // 60
        opened_at = local_instant(self.location, self.business_date, second / 60)
        kind = _kind_at(rng, minute, config)
        guests = rng.choices(_GUESTS, _GUEST_WEIGHTS)[0] if kind is CheckKind.TABLE else 1
        if kind is CheckKind.BAR:
            guests = rng.choices((1, 2, 3), (50, 35, 15))[0]
        order_id = order_id_for(self.prefix, number)
        writer = CheckWriter(rng, self.index, order_id, config, minute)
        RINGERS[kind](writer, guests, minute >= 16 * 60)
        staffed = kind in (CheckKind.TABLE, CheckKind.BAR)
        if staffed and rng.random() < 0.04:
            writer.void_one(rng.choice(("Beer", "Burgers", "Entrees", "Non-alcoholic")))
        if staffed and rng.random() < 0.025:
            writer.comp_one(self.staffing.on_shift(rng, MANAGER, opened_at))
        if kind in (CheckKind.TABLE, CheckKind.TAKEOUT) and rng.random() < 0.007:
            writer.ring_gift_card()
        discounts = []
        if kind is CheckKind.TAKEOUT and rng.random() < 0.03:
            discounts.append(employee_discount(writer.lines, config, currency))
        marketplace = rng.choices(MARKETPLACES, MARKETPLACE_WEIGHTS)[0]
        order = Order(
            id=order_id,
            location_id=self.location.id,
            opened_at=opened_at,
            lines=writer.lines,
            external_id=self._external_id(rng, kind, number, marketplace),
            source=_SOURCE.get(kind, OrderSource.POS),
            state=OrderState.COMPLETED,
            dining_option=self._dining_option(rng, kind),
            revenue_center=_REVENUE_CENTER.get(kind, "takeout"),
            table=self._table(rng, kind),
            guest_count=guests,
            employee_id=self.staffing.server_for(rng, kind, opened_at),
            business_date=self.location.business_date_for(opened_at),
            currency=currency,
            discounts=discounts,
        )
        late_round = staffed and config.updated_versions and kind is CheckKind.TABLE and rng.random() < 0.04
        if late_round:
            return self._with_late_round(order, writer, kind, guests, minute)
        self._close(order, kind, guests, minute, marketplace)
        return [order]

    def _close(self, order: Order, kind: CheckKind, guests: int, minute: int, marketplace: str) -> None:
        """Price, pay and close ``order`` in place; a few card checks get a refund later."""
        charges = price_check(
            order.lines,
            order.discounts,
            config=self.config,
            guests=guests,
            kind=kind,
            currency=order.currency,
        )
        order.taxes, order.service_charges = charges.taxes, charges.service_charges
        order.closed_at = order.opened_at + self._duration(kind, guests, minute)
        order.payments = pay(
            self.rng,
            order_id=order.id,
            kind=kind,
            charges=charges,
            at=order.closed_at,
            currency=order.currency,
            marketplace=marketplace,
        )
        if self.rng.random() < 0.006:
            order.refunds = refund_one(self.rng, order.id, order.lines, order.payments, self.config)

    def _with_late_round(
        self, order: Order, writer: CheckWriter, kind: CheckKind, guests: int, minute: int
    ) -> list[Order]:
        """Version 1: the check as first sent, still open; version 2: desserts added, paid."""
        charges = price_check(
            order.lines,
            order.discounts,
            config=self.config,
            guests=guests,
            kind=kind,
            currency=order.currency,
        )
        first = msgspec.structs.replace(
            order,
            lines=msgspec.json.decode(msgspec.json.encode(order.lines), type=list[Line]),
            state=OrderState.OPEN,
            taxes=charges.taxes,
            service_charges=charges.service_charges,
        )
        ring_desserts(writer, guests)
        final = msgspec.structs.replace(order, lines=writer.lines, version=2)
        self._close(final, kind, guests, minute, "")
        return [first, final]

    @staticmethod
    def _external_id(rng: random.Random, kind: CheckKind, number: int, marketplace: str) -> str:
        if kind is CheckKind.MARKETPLACE:
            return f"{MARKETPLACE_PREFIX[marketplace]}-{rng.getrandbits(32):08X}"
        if kind is CheckKind.ONLINE:
            return f"WEB-{rng.getrandbits(24):06X}"
        return f"CHK-{number:04d}"

    @staticmethod
    def _dining_option(rng: random.Random, kind: CheckKind) -> DiningOption:
        if kind is CheckKind.MARKETPLACE:
            return DiningOption.DELIVERY if rng.random() < 0.85 else DiningOption.PICKUP
        if kind is CheckKind.ONLINE:
            return DiningOption.PICKUP
        if kind is CheckKind.TAKEOUT:
            return DiningOption.TAKEOUT
        return DiningOption.DINE_IN

    @staticmethod
    def _table(rng: random.Random, kind: CheckKind) -> str | None:
        if kind is CheckKind.TABLE:
            return f"T{rng.randint(1, 32)}"
        if kind is CheckKind.BAR:
            return f"B{rng.randint(1, 14)}"
        return None


def order_id_for(prefix: str, number: int) -> str:
    """``L001-20261127-C0042``: the ``C`` keeps the digits of location, date and check number
    from reading as one 13-19 digit run, which the card-number guard would refuse."""
    return f"{prefix}-C{number:04d}"


_SOURCE = {CheckKind.ONLINE: OrderSource.ONLINE, CheckKind.MARKETPLACE: OrderSource.MARKETPLACE}


def order_count(scale: float, config: SimConfig = DEFAULT_CONFIG) -> int:
    """How many checks a day opens at ``scale`` (at least one)."""
    return max(1, round(config.orders_per_day * scale))


def iter_orders(
    location: Location,
    business_date: date,
    seed: int,
    scale: float = 1.0,
    *,
    config: SimConfig = DEFAULT_CONFIG,
) -> Iterator[Order]:
    """The day's checks in opening order, one at a time (versions of one check back to back)."""
    day = _Day(location, business_date, seed, config)
    for number, second in enumerate(opening_seconds(day.rng, order_count(scale, config)), start=1):
        yield from day.orders(number, second)


def simulate_day(
    location: Location,
    business_date: date,
    seed: int,
    scale: float = 1.0,
    *,
    config: SimConfig = DEFAULT_CONFIG,
) -> DaySimulation:
    """Every check and time punch of ``business_date`` at ``location``."""
    return DaySimulation(
        orders=list(iter_orders(location, business_date, seed, scale, config=config)),
        punches=simulate_punches(location, business_date, seed),
    )
