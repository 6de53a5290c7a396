"""One clock for the whole hub: what asks the time asks :mod:`expediter.model.clock`."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from expediter.engine.hub import Hub
from expediter.model import clock as hub_clock
from expediter.model.clock import OFFSET_VARIABLE, ManualClock, offset_to, use_clock
from tests.engine.helpers import TEST_CONNECTORS, order_message, sample_catalog
from tests.fixtures_path import REPO_ROOT

LEAP_DAY = datetime(2028, 2, 29, 18, 0, tzinfo=UTC)


def test_the_offset_moves_the_clock_of_a_new_process_and_of_the_processes_it_starts() -> None:
    script = "from expediter.model import clock; print(clock.now().isoformat())"
    environment = {**os.environ, OFFSET_VARIABLE: str(offset_to(LEAP_DAY))}
    printed = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    )
    assert abs(datetime.fromisoformat(printed.stdout.strip()) - LEAP_DAY) < timedelta(seconds=30)


def test_a_bad_offset_says_what_it_must_be() -> None:
    environment = {**os.environ, OFFSET_VARIABLE: "next tuesday"}
    failed = subprocess.run(
        [sys.executable, "-c", "import expediter.model.clock"],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0
    assert "EXPEDITER_CLOCK_OFFSET must be a number of seconds" in failed.stderr


def test_use_clock_swaps_the_clock_and_puts_it_back() -> None:
    before = hub_clock.now()
    with use_clock(ManualClock(LEAP_DAY)) as manual:
        assert hub_clock.now() == LEAP_DAY
        manual.advance(90)
        assert hub_clock.now_iso() == "2028-02-29T18:01:30.000000+00:00"
        assert hub_clock.unix_time() == (LEAP_DAY + timedelta(seconds=90)).timestamp()
    assert abs(hub_clock.now() - before) < timedelta(minutes=5)


def test_a_manual_clock_refuses_a_time_without_a_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2028, 2, 29, 18, 0))


def test_the_inbox_stamps_what_it_stores_with_the_hub_clock(tmp_path: Path, clock: ManualClock) -> None:
    clock.set(LEAP_DAY)
    db = tmp_path / "hub.db"

    async def scenario() -> datetime:
        async with Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            await hub.inbox.accept(order_message(1), ref="order-1")
            stored = await hub.inbox.latest_by_ref("orders", "order-1")
            assert stored is not None
            return stored.received_at

    assert asyncio.run(scenario()) == LEAP_DAY


ASKS_THE_MACHINE = re.compile(r"datetime\.now\(|datetime\.utcnow\(|date\.today\(|time\.time\(\)")


def test_nothing_in_the_hub_asks_the_machine_for_the_time_but_the_clock() -> None:
    source = REPO_ROOT / "src" / "expediter"
    asking = [
        f"{path.relative_to(source)}:{number}"
        for path in sorted(source.rglob("*.py"))
        if path != source / "model" / "clock.py"
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ASKS_THE_MACHINE.search(text)
    ]
    assert not asking, f"ask expediter.model.clock instead: {asking}"
