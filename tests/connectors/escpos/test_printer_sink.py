import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from expediter.catalog.schema import Catalog, Mappings, System, SystemKind
from expediter.connectors.escpos.config import PrinterSettings, PrintMode
from expediter.connectors.escpos.connector import EscposSink, make_sink
from expediter.errors import ConfigError, TransientError
from expediter.model.clock import ManualClock
from expediter.operations.kitchen import Kitchen, RoutingRules, ticket_id_for
from expediter.plugin.base import ConnectorContext
from expediter.sim.ports import free_port
from expediter.sim.printer import VirtualPrinter
from tests.connectors.kds.test_sink import outbound
from tests.operations.kitchen.helpers import (
    CATEGORIES,
    OPENED,
    burger,
    line,
    make_kitchen,
    order,
    with_kitchen,
)

RULES = RoutingRules(category_stations=CATEGORIES)


def sink_for(port: int, station: str = "grill", kitchen: Kitchen | None = None, **kw: object) -> EscposSink:
    settings = PrinterSettings(host="127.0.0.1", port=port, station=station, **kw)  # type: ignore[arg-type]
    return EscposSink("printer_" + station, settings, RULES, kitchen)


def test_ticket_prints_and_decodes_back_to_the_ticket_text() -> None:
    async def scenario() -> str:
        async with VirtualPrinter() as printer:
            receipt = await sink_for(printer.port).deliver(outbound(order()))
            assert receipt.records == 1
            assert (
                receipt.remote_ref == f"tcp://127.0.0.1:{printer.port} ticket {ticket_id_for('o-1', 'grill')}"
            )
            [printed] = await printer.wait_for(1)
            return printed.text

    assert asyncio.run(scenario()).splitlines() == [
        "GRILL",
        "Order 101  NEW",
        "DINE IN  Table 12",
        f"Opened {OPENED:%H:%M}",  # no location time zone given: UTC
        f"Ticket {ticket_id_for('o-1', 'grill')}",
        "-" * 42,
        "1 x Classic Burger",
        "   NO ONIONS",
        "   + Fries -> FRY",
        "-" * 42,
    ]


def test_component_prints_on_its_own_station() -> None:
    async def scenario() -> str:
        async with VirtualPrinter() as printer:
            await sink_for(printer.port, "fry").deliver(outbound(order()))
            return (await printer.wait_for(1))[0].text

    assert "1 x Fries (for Classic Burger)" in asyncio.run(scenario())


def test_newer_version_prints_only_the_change(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen) -> list[str]:
        async with VirtualPrinter() as printer:
            sink = sink_for(printer.port, kitchen=kitchen)
            await sink.deliver(outbound(order(lines=[burger(), line("l-2", "Steak")])))
            v2 = order(
                lines=[burger(), line("l-2", "Steak", voided=True), line("l-3", "Cheeseburger")], version=2
            )
            await sink.deliver(outbound(v2))
            again = await sink.deliver(outbound(v2, attempt=2))
            assert again.records == 0
            return [t.text for t in await printer.wait_for(2)]

    first, second = with_kitchen(make_kitchen(tmp_path), scenario)
    assert "Steak" in first and "Order 101  UPDATE v2" in second
    items = [row for row in second.splitlines() if " x " in row]
    assert items == ["VOID 1 x Steak", "ADD 1 x Cheeseburger"]


def test_dead_printer_is_a_transient_error() -> None:
    with pytest.raises(TransientError, match="unreachable"):
        asyncio.run(sink_for(free_port(), timeout_seconds=2).deliver(outbound(order())))


def test_orders_older_than_the_age_limit_are_skipped(clock: ManualClock) -> None:
    sink = sink_for(free_port(), max_age_minutes=30)
    clock.set(OPENED + timedelta(minutes=31))
    receipt = asyncio.run(sink.deliver(outbound(order())))
    assert receipt.records == 0
    assert "skipped: older than 30 minutes" in receipt.remote_ref


def test_screen_online_mode_prints_only_while_no_screen_listens(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        async with VirtualPrinter() as printer:
            sink = sink_for(printer.port, kitchen=kitchen, mode=PrintMode.WHEN_SCREEN_OFFLINE)
            screen = kitchen.subscribe("grill")
            skipped = await sink.deliver(outbound(order("o-1")))
            assert "grill screen online" in skipped.remote_ref
            kitchen.unsubscribe(screen)
            printed = await sink.deliver(outbound(order("o-2")))
            assert printed.records == 1
            [ticket] = await printer.wait_for(1)
            assert ticket_id_for("o-2", "grill") in ticket.text

    with_kitchen(make_kitchen(tmp_path), scenario)


def test_make_sink_reads_settings_and_needs_kitchen_for_fallback_mode() -> None:
    system = System(
        id="printer_grill",
        kind=SystemKind.PRINTER,
        connector="escpos",
        owner="Chef",
        settings={"host": "10.0.0.31", "station": "grill", "mode": "when_screen_offline"},
    )
    ctx = ConnectorContext(
        catalog=Catalog(systems=[system], mappings=Mappings(stations=CATEGORIES)), system=system
    )
    with pytest.raises(ConfigError, match="when_screen_offline"):
        make_sink(ctx)
    system.settings["mode"] = "always"
    sink = make_sink(ctx)
    assert (sink.settings.port, sink.rules.category_stations) == (9100, CATEGORIES)
