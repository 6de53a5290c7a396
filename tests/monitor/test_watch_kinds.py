"""Each alert kind beyond failure, lateness and dead letters fires in a running hub (a real
database, the real watch, the hub's own HTTP door and kitchen) and resolves once its cause is gone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.model.time import zone
from expediter.monitor import alert_store
from expediter.monitor.alerts import Alert, AlertKind
from expediter.monitor.volume import Verdict, same_hour_windows, verdict
from expediter.runtime import Runtime
from tests.clocks import SUITE_STARTED
from tests.monitor import kinds

Step = Callable[[Runtime, ManualClock], Awaitable[None]]
CASES: dict[AlertKind, tuple[Step, Step, tuple[str | None, str | None, str | None], timedelta]] = {
    AlertKind.VOLUME: (
        kinds.a_quiet_friday_evening,
        kinds.orders_come_back,
        ("pos-screens", "L1", None),
        kinds.HISTORY,
    ),
    AlertKind.SIGNATURE_FAILURES: (
        kinds.a_rotated_signing_key,
        kinds.ten_quiet_minutes,
        ("shop-screens", None, None),
        timedelta(0),
    ),
    AlertKind.OFFLINE: (
        kinds.the_grill_screen_goes_dark,
        kinds.the_grill_screen_is_back,
        ("pos-kitchen", None, "station grill"),
        timedelta(0),
    ),
    AlertKind.MISSING_FILE: (
        kinds.no_invoice_by_its_time,
        kinds.the_invoice_arrives,
        ("vendor-invoices", None, None),
        timedelta(0),
    ),
}


def of_kind(runtime: Runtime, kind: AlertKind) -> list[Alert]:
    return [a for a in runtime.alerting.book.firing() if a.kind is kind]


@pytest.mark.parametrize("kind", list(CASES), ids=str)
def test_the_kind_fires_in_a_running_hub_and_resolves(
    tmp_path: Path, clock: ManualClock, kind: AlertKind
) -> None:
    fire, clear, (flow_id, location_id, subject), started_before = CASES[kind]
    clock.set(SUITE_STARTED - started_before)

    async def main() -> tuple[list[Alert], list[Alert], list[Alert]]:
        async with kinds.running_hub(tmp_path, clock) as runtime:
            await fire(runtime, clock)
            fired = of_kind(runtime, kind)
            await clear(runtime, clock)
            stored = await runtime.hub.storage.read(alert_store.alert_history)
            return fired, of_kind(runtime, kind), [a for a in stored if a.kind is kind]

    fired, after, history = asyncio.run(main())
    assert [(a.flow_id, a.location_id, a.subject) for a in fired] == [(flow_id, location_id, subject)]
    assert after == []
    [kept] = history
    assert kept.state == "resolved" and kept.resolved_at is not None and kept.id == fired[0].id


def test_the_printer_going_offline_fires_per_location_and_resolves_when_it_prints(
    tmp_path: Path, clock: ManualClock
) -> None:
    async def main() -> tuple[list[Alert], list[Alert]]:
        async with kinds.running_hub(tmp_path, clock) as runtime:
            await kinds.the_printer_is_unplugged(runtime, clock)
            fired = of_kind(runtime, AlertKind.OFFLINE)
            await kinds.the_printer_is_back(runtime, clock)
            return fired, of_kind(runtime, AlertKind.OFFLINE)

    fired, after = asyncio.run(main())
    assert [(a.flow_id, a.location_id) for a in fired] == [("pos-printer", "L1")]
    assert "connection refused by 10.0.0.40:9100" in fired[0].message
    assert after == []


def test_the_volume_alert_says_what_is_normal(tmp_path: Path, clock: ManualClock) -> None:
    clock.set(SUITE_STARTED - kinds.HISTORY)

    async def main() -> Alert:
        async with kinds.running_hub(tmp_path, clock) as runtime:
            await kinds.a_quiet_friday_evening(runtime, clock)
            [alert] = of_kind(runtime, AlertKind.VOLUME)
            return alert

    alert = asyncio.run(main())
    weekday = SUITE_STARTED.astimezone(zone("America/New_York")).strftime("%A")
    assert "0 orders in the hour to" in alert.message
    assert (
        f"on a {weekday} at this hour it is normally 10 (the last 4 weeks: 10, 10, 10, 10)" in alert.message
    )


def test_volume_needs_enough_history_before_it_says_anything() -> None:
    assert verdict(0, [10, 12, 9, 11]) is Verdict.LOW
    assert verdict(60, [10, 12, 9, 11]) is Verdict.HIGH
    assert verdict(6, [10, 12, 9, 11]) is None
    assert verdict(0, [2, 3, 1, 2]) is None  # a quiet hour is not judged
    assert verdict(0, []) is None


@pytest.mark.parametrize(
    "local_now",
    [datetime(2026, 3, 13, 19, 30), datetime(2026, 11, 6, 19, 30)],  # Fridays after DST starts / ends
    ids=["after-spring-forward", "after-fall-back"],
)
def test_the_same_hour_is_the_same_local_hour_across_a_clock_change(local_now: datetime) -> None:
    location = Location(id="L1", name="Downtown", timezone="America/New_York")
    now = local_now.replace(tzinfo=zone(location.timezone)).astimezone(UTC)
    current, earlier = same_hour_windows(now, location, 4)
    assert current.end - current.start == timedelta(hours=1)
    for week, window in enumerate(earlier, start=1):
        start = window.start.astimezone(zone(location.timezone))
        assert (start.weekday(), start.hour, start.minute) == (4, 18, 30)
        assert start.date() == (local_now - timedelta(weeks=week)).date()
