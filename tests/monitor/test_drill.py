"""``expediter drill``: a flow broken on purpose in a running hub; its alert must fire, reach the
route's real HTTP receiver and resolve, and no real system may be touched."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from expediter.catalog.schema import (
    AlertChannel,
    AlertRoute,
    Catalog,
    Flow,
    Level,
    System,
    SystemKind,
    Trigger,
)
from expediter.catalog.schema import Hub as HubSettings
from expediter.cli import app
from expediter.drill import DrillResult
from expediter.engine.hub import Hub
from expediter.ledger import Transfer
from expediter.ledger.drills import Drill, DrillState, drills_of
from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.monitor.alerts import AlertKind
from expediter.sim.ports import free_port
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually
from tests.monitor import kinds
from tests.monitor.conftest import HttpReceiver
from tests.processes import kill_group, serve_command, wait_healthy


class Seen(msgspec.Struct, kw_only=True):
    result: DrillResult
    drills: list[Drill]
    dead: dict[str, int]
    drill_transfers: list[Transfer]
    flow_transfers: list[Transfer]
    firing: list[str]


async def _drill(runtime: kinds.Runtime) -> Seen:
    result = await runtime.drill("pos-office")
    hub = runtime.hub
    return Seen(
        result=result,
        drills=await hub.storage.read(lambda tx: drills_of(tx, "pos-office")),
        dead=await hub.deliveries.dead_by_flow(),
        drill_transfers=await hub.ledger.transfers(flow_id="pos-office#drill"),
        flow_transfers=await hub.ledger.transfers(flow_id="pos-office"),
        firing=[str(a.kind) for a in runtime.alerting.book.firing() if a.flow_id == "pos-office"],
    )


def test_a_drill_passes_on_a_healthy_flow_and_touches_no_real_system(
    tmp_path: Path, clock: ManualClock, http_receiver: HttpReceiver
) -> None:
    async def main() -> tuple[Seen, Board]:
        async with kinds.running_hub(tmp_path, clock, channel_url=http_receiver.url) as runtime:
            return await _drill(runtime), runtime.hub.services.extra["board"]

    seen, board = asyncio.run(main())
    assert seen.result.passed, seen.result.reason
    posted = [body for _, _, body in http_receiver.requests]
    assert [(p["event"], p["kind"], p["drill"]) for p in posted] == [
        ("firing", "dead_letter", True),
        ("resolved", "dead_letter", True),
    ]
    assert posted[0]["subject"] == "[Expediter] DRILL FIRING dead_letter: flow pos-office"
    [drill] = seen.drills
    assert drill.state is DrillState.PASSED and drill.reason == ""
    assert any("reached office-hook" in step for step in drill.steps)
    assert seen.dead == {} and seen.firing == []
    assert sorted(str(t.outcome) for t in seen.drill_transfers) == ["dead", "succeeded"]
    assert seen.flow_transfers == []  # the flow itself never looked failing
    assert board.attempts == []  # the office's sink was never called


def test_a_drill_fails_when_the_alert_route_is_broken_and_passes_once_it_is_mended(
    tmp_path: Path, clock: ManualClock, http_receiver: HttpReceiver
) -> None:
    http_receiver.status = 500

    async def main() -> tuple[Seen, Seen]:
        async with kinds.running_hub(tmp_path, clock, channel_url=http_receiver.url) as runtime:
            broken = await _drill(runtime)
            http_receiver.status = 204
            return broken, await _drill(runtime)

    broken, mended = asyncio.run(main())
    assert not broken.result.passed
    assert "did not reach every channel of its route: office-hook: HTTP 500" in broken.result.reason
    assert broken.drills[0].state is DrillState.FAILED and broken.drills[0].reason == broken.result.reason
    assert broken.dead == {}  # the drill leaves no dead letter behind, even when it fails
    assert broken.firing == [str(AlertKind.DRILL_FAILED)]
    assert mended.result.passed, mended.result.reason
    assert mended.firing == [] and [d.state for d in mended.drills] == [DrillState.PASSED, DrillState.FAILED]


def test_a_file_flow_is_refused_with_the_reason(tmp_path: Path, clock: ManualClock) -> None:
    async def main() -> DrillResult:
        async with kinds.running_hub(tmp_path, clock) as runtime:
            return await runtime.drill("vendor-invoices")

    result = asyncio.run(main())
    assert not result.passed and "vendor-invoices is a file flow" in result.reason


# -- the command, against a hub the way a user runs it -----------------------------------------------


def serve_catalog(folder: Path) -> Path:
    """What `expediter serve` accepts (installed connectors only, `check` clean): a POS posting
    orders to the built-in kitchen, whose alerts go to a webhook named by an environment variable."""
    catalog = Catalog(
        hub=HubSettings(database=str(folder / "hub.db"), data_dir=str(folder / "data")),
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(id="kitchen", kind=SystemKind.KDS, connector="kds", owner="Chef Andre"),
        ],
        flows=[
            Flow(
                id="pos-kitchen",
                from_="pos",
                to="kitchen",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                transport="sse",
                owner="Chef Andre",
                contact="+1 212 555 0100",
                description="Checks rung in at the POS become tickets on the screens.",
                impact="Cooks do not see new orders.",
                alert_route="kitchen",
            )
        ],
        alert_channels=[AlertChannel(id="chef-hook", kind="webhook", target="env:TEST_DRILL_HOOK")],
        alert_routes=[AlertRoute(id="kitchen", channels=["chef-hook"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def test_the_drill_command_needs_a_running_hub(tmp_path: Path) -> None:
    config = serve_catalog(tmp_path)
    result = CliRunner().invoke(
        app, ["drill", "pos-kitchen", "-c", str(config)], env={"TEST_DRILL_HOOK": "http://127.0.0.1:1/x"}
    )
    assert result.exit_code == 1
    assert "no hub is running on" in result.output and "start `expediter serve` first" in result.output


@pytest.mark.slow
def test_the_drill_command_drills_the_running_hub(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    config = serve_catalog(tmp_path)
    port = free_port()
    env = {**os.environ, "TEST_DRILL_HOOK": http_receiver.url}
    server = subprocess.Popen(serve_command(config, port), env=env, start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
        result = CliRunner().invoke(
            app, ["drill", "pos-kitchen", "-c", str(config)], env={"TEST_DRILL_HOOK": http_receiver.url}
        )
    finally:
        kill_group(server)
        server.wait(10)
    assert result.exit_code == 0, result.output
    assert "drill of pos-kitchen passed" in result.output
    assert "✓ the firing alert reached chef-hook" in result.output
    assert [body["event"] for _, _, body in http_receiver.requests] == ["firing", "resolved"]
    audit = CliRunner().invoke(app, ["audit", "--json", "-c", str(config)])
    [drilled] = [e for e in json.loads(audit.output) if e["action"] == "drill"]
    assert (drilled["actor_kind"], drilled["target"]) == ("command", "pos-kitchen")
    assert drilled["actor"].startswith("command:") and drilled["detail"].endswith(" passed")


def test_a_flows_drill_schedule_drills_it_and_a_failed_drill_fires_drill_failed(
    tmp_path: Path, clock: ManualClock
) -> None:
    """``drill_schedule = "* * * * *"`` with the clock half a second before the minute: the hub
    drills by itself; the route's only channel refuses, so ``drill_failed`` fires."""
    declared = kinds.kinds_catalog(tmp_path)
    drilled = msgspec.structs.replace(declared.flow("pos-office"), drill_schedule="* * * * *")  # type: ignore[type-var]
    declared.flows = [drilled]
    declared.systems = [s for s in declared.systems if s.id in ("pos", "office")]
    clock.set(clock.now() + timedelta(seconds=59.5))

    async def main() -> tuple[list[Drill], list[str]]:
        hub = Hub(declared, connectors=TEST_CONNECTORS)
        hub.services.extra["board"] = Board()
        async with kinds.Runtime(declared, hub, watch=False) as runtime:

            async def drilled_once() -> bool:
                found = await hub.storage.read(lambda tx: drills_of(tx, "pos-office"))
                firing = [a for a in runtime.alerting.book.firing() if a.kind is AlertKind.DRILL_FAILED]
                return any(d.state is DrillState.FAILED for d in found) and bool(firing)

            await eventually(drilled_once, timeout=120)
            found = await hub.storage.read(lambda tx: drills_of(tx, "pos-office"))
            return found, [str(a.kind) for a in runtime.alerting.book.firing()]

    found, firing = asyncio.run(main())
    assert found[-1].state is DrillState.FAILED and "office-hook" in found[-1].reason
    assert str(AlertKind.DRILL_FAILED) in firing
