"""Two ``expediter serve`` processes on one PostgreSQL database: the scheduler runs in one of them;
killed with SIGKILL, the standby takes it over and the next scheduled run happens once, there."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.model import clock
from expediter.model.location import Location
from tests.databases import query
from tests.processes import kill_group, start_serve

pytestmark = [pytest.mark.slow, pytest.mark.service]
LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")


def write_catalog(folder: Path, database: str) -> Path:
    catalog = Catalog(
        hub=HubSettings(database=database, data_dir=str(folder / "data"), takeover_seconds=1.0),
        locations=[LOCATION],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(
                id="office",
                kind=SystemKind.BACK_OFFICE,
                connector="csv",
                owner="Controller",
                settings={"transport": {"inbox_dir": str(folder / "office")}},
            ),
        ],
        flows=[
            Flow(
                id="nightly-sales",
                from_="pos",
                to="office",
                data="sales_summary",
                level=Level.FILE,
                trigger=Trigger.SCHEDULE,
                schedule="30,31 4 * * *",  # the night's summary, sent twice a minute apart
                transport="folder",
                owner="Controller",
                contact="controller@bistro.example",
                description="The night's sales summary, to the office's folder.",
                impact="The books miss a night.",
            )
        ],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def start(config: Path, offset: float) -> subprocess.Popen[bytes]:
    environment = {**os.environ, clock.OFFSET_VARIABLE: str(offset)}
    return start_serve(config, env=environment)[0]


def runs(database: str) -> list[str]:
    rows = query(
        database,
        "SELECT started_at FROM transfers WHERE flow_id = 'nightly-sales' AND outcome = 'succeeded'"
        " ORDER BY started_at",
    )
    return [started for (started,) in rows]


def roles_now(database: str) -> dict[int, str]:
    """Each serve process's pid and the parts it holds, as its heartbeat row says."""
    return dict(query(database, "SELECT pid, role FROM hub_processes"))


def wait_for(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.1)  # polling other processes, not hiding a race


def test_the_standby_takes_the_scheduler_over_and_the_next_run_happens_once(
    tmp_path: Path, postgres_url: str
) -> None:
    zone = ZoneInfo(LOCATION.timezone)
    local_now = clock.now().astimezone(zone)
    start_at = (local_now + timedelta(days=1)).replace(hour=4, minute=29, second=45, microsecond=0)
    offset = clock.offset_to(start_at)
    config = write_catalog(tmp_path, postgres_url)
    holder = start(config, offset)
    standby = start(config, offset)
    try:
        roles = roles_now(postgres_url)
        assert "scheduler" in roles[holder.pid] and "scheduler" not in roles[standby.pid]
        wait_for(lambda: len(runs(postgres_url)) == 1, 60)  # 04:30, in the holder
        kill_group(holder)
        holder.wait(timeout=10)
        wait_for(lambda: len(runs(postgres_url)) == 2, 90)  # 04:31, in the standby
        wait_for(lambda: "scheduler" in roles_now(postgres_url)[standby.pid], 30)
    finally:
        for process in (standby, holder):
            kill_group(process)
            process.wait(timeout=10)

    first, second = (datetime.fromisoformat(at).astimezone(zone) for at in runs(postgres_url))
    assert (first.hour, first.minute, second.hour, second.minute) == (4, 30, 4, 31)
