"""docs/monitoring.md promises only alert kinds the hub fires: each kind its table lists is made to
fire here by a running hub (a real database, the real watch), and the table lists every kind."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import msgspec

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError
from expediter.ledger import Direction, Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.clock import ManualClock, use_clock
from expediter.monitor.alerts import AlertKind
from expediter.monitor.drift import Arrival
from expediter.plugin.base import Outbound
from expediter.runtime import Runtime
from tests.clocks import SUITE_STARTED
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message
from tests.monitor import kinds

DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"
Scenario = Callable[[Runtime], Awaitable[None]]


def documented_kinds() -> list[str]:
    section = DOCS.read_text().split("## Alerts", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def catalog(tmp_path: Path, database: str | None = None) -> Catalog:
    def flow(flow_id: str, destination: str, **extra: object) -> Flow:
        fields: dict[str, object] = {
            "id": flow_id,
            "from_": "pos",
            "to": destination,
            "data": "orders",
            "level": Level.REALTIME,
            "trigger": Trigger.EVENT,
            "owner": "ops",
        }
        return Flow(**(fields | extra))  # type: ignore[arg-type]

    return Catalog(
        hub=HubSettings(database=database or str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="test_source", owner="ops"),
            System(id="printer", kind=SystemKind.PRINTER, connector="test_sink", owner="ops"),
            System(id="office", kind=SystemKind.BACK_OFFICE, connector="test_sink", owner="ops"),
        ],
        flows=[
            flow("orders-to-printer", "printer"),
            flow(
                "nightly-sales",
                "office",
                data="sales_summary",
                level=Level.FILE,
                trigger=Trigger.SCHEDULE,
                schedule="0 * * * *",
                expected_by=None,
                transport="folder",
            ),
        ],
    )


async def a_failed_transfer(runtime: Runtime) -> None:
    now = clock.now()
    failed = Transfer(
        flow_id="orders-to-printer",
        direction=Direction.OUT,
        level=Level.REALTIME,
        transport="http",
        started_at=now,
        finished_at=now,
        outcome=TransferOutcome.FAILED,
        error="printer offline",
    )
    await runtime.hub.ledger.record(failed)
    await runtime.watch_once()


async def a_dead_letter(runtime: Runtime) -> None:
    async def refuse(item: Outbound) -> None:
        raise TerminalError("HTTP 400: unknown station")

    runtime.hub.services.extra["board"].behaviour["printer"] = refuse
    await runtime.hub.inbox.accept(order_message(1))

    async def dead() -> bool:
        return bool(await runtime.hub.deliveries.dead_by_flow())

    await eventually(dead)
    await runtime.watch_once()


async def a_field_the_model_does_not_know(runtime: Runtime) -> None:
    order = msgspec.json.encode({"id": "order-1", "alergy_note": "tree nuts"})
    message = msgspec.structs.replace(order_message(1), payload=order)
    await runtime.hub.inbox.accept(message, arrival=Arrival.UNCHECKED)
    await runtime.watch_once()


async def a_missed_deadline(runtime: Runtime) -> None:
    # Watched for three hours, the hourly run never succeeded: its hour of grace is over.
    await runtime.watch_once(clock.now() + timedelta(hours=3))


async def a_part_that_stops(runtime: Runtime) -> None:
    async def broken() -> None:
        raise OSError("the disk is full")

    runtime.spawn(broken(), "the scheduler (no flow runs on schedule)")

    async def stopped() -> bool:
        return bool(runtime.stopped_parts) and bool(runtime.alerting.book.firing())

    await eventually(stopped)


async def pay_nobody_owns(runtime: Runtime) -> None:
    """A week's payroll with an auto-gratuity on a check that no employee owns (see the payroll
    tests): the rest of the file goes out, that amount is held for a person."""
    from tests.operations.labor.test_period import END, START, _store_week

    await _store_week(runtime.hub)
    await runtime.run_flow("pay", "LA1", START, END)


def payroll_catalog(folder: Path) -> Catalog:
    from tests.operations.labor.test_period import _catalog

    return _catalog(folder)


async def a_file_gone_from_the_books(runtime: Runtime) -> None:
    """The night's journal went out, then vanished from the books' folder: the deliveries check
    differs at the next reconciliation pass."""
    from tests.engine.reconcile_support import LOCATION, due_at, last_night, store_day

    night = last_night()
    await store_day(runtime.hub, night)
    [name] = (await runtime.run_flow("nightly-journal", LOCATION.id, night)).files
    books = runtime.catalog.system("books")
    assert books is not None
    [written] = Path(books.settings["transport"]["inbox_dir"]).glob(name)
    written.unlink()
    await runtime.reconcile_once(due_at(night))


def journal_catalog(folder: Path) -> Catalog:
    from tests.engine.reconcile_support import folder_catalog, nightly_flow

    return folder_catalog(folder, [nightly_flow("nightly-journal")])


SCENARIOS: dict[str, tuple[Callable[[Path], Catalog], Scenario]] = {
    "failure": (catalog, a_failed_transfer),
    "dead_letter": (catalog, a_dead_letter),
    "lateness": (catalog, a_missed_deadline),
    "drift": (catalog, a_field_the_model_does_not_know),
    "stopped": (catalog, a_part_that_stops),
    "held_for_review": (payroll_catalog, pay_nobody_owns),
    "reconciliation": (journal_catalog, a_file_gone_from_the_books),
}
ClockedScenario = Callable[[Runtime, ManualClock], Awaitable[None]]
CLOCKED: dict[str, tuple[ClockedScenario, timedelta]] = {
    "volume": (kinds.a_quiet_friday_evening, kinds.HISTORY),
    "signature_failures": (kinds.a_rotated_signing_key, timedelta(0)),
    "offline": (kinds.the_grill_screen_goes_dark, timedelta(0)),
    "missing_file": (kinds.no_invoice_by_its_time, timedelta(0)),
    "drill_failed": (kinds.a_drill_whose_channel_refuses, timedelta(0)),
}
"""Kinds fired in the hub of :func:`tests.monitor.kinds.kinds_catalog`, on a clock the steps move
(tests/monitor/test_watch_kinds.py makes each of them resolve too)."""


def test_the_docs_list_every_kind_the_hub_fires_and_no_other() -> None:
    assert sorted(documented_kinds()) == sorted(kind.value for kind in AlertKind)


def test_every_documented_kind_fires_in_a_running_hub(
    tmp_path: Path, new_database: Callable[[str], str]
) -> None:
    for kind in documented_kinds():
        assert kind in SCENARIOS or kind in CLOCKED, (
            f"docs/monitoring.md promises {kind!r} alerts, but nothing fires them"
        )
        folder = tmp_path / kind
        folder.mkdir()
        if kind in CLOCKED:
            step, started_before = CLOCKED[kind]
            fired = _fire_on_a_clock(folder, step, started_before)
        else:
            declare, scenario = SCENARIOS[kind]
            declared = declare(folder)
            declared.hub = msgspec.structs.replace(declared.hub, database=new_database(kind))
            fired = asyncio.run(_fire(declared, scenario))
        assert kind in fired, f"{kind}: fired {fired}"


def _fire_on_a_clock(folder: Path, step: ClockedScenario, started_before: timedelta) -> list[str]:
    async def main(manual: ManualClock) -> list[str]:
        async with kinds.running_hub(folder, manual) as runtime:
            await step(runtime, manual)
            return [str(alert.kind) for alert in runtime.alerting.book.firing()]

    with use_clock(ManualClock(SUITE_STARTED - started_before)) as manual:
        assert isinstance(manual, ManualClock)
        return asyncio.run(main(manual))


async def _fire(declared: Catalog, scenario: Scenario) -> list[str]:
    hub = Hub(declared, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=0.001, cap=0.001))
    hub.services.extra["board"] = Board()
    async with Runtime(declared, hub, schedule=False, watch=False) as runtime:
        await scenario(runtime)
        return [str(alert.kind) for alert in runtime.alerting.book.firing()]
