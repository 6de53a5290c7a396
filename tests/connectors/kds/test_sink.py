from pathlib import Path

import msgspec
import pytest

from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.connectors.kds.connector import CONNECTOR, make_sink
from expediter.errors import ConfigError, TerminalError
from expediter.model.order import Order
from expediter.operations.kitchen import Kitchen, ticket_id_for
from expediter.plugin.base import ConnectorContext, Outbound, Sink
from expediter.plugin.services import Services
from tests.operations.kitchen.helpers import burger, line, make_kitchen, order, with_kitchen

SYSTEM = System(id="kds", kind=SystemKind.KDS, connector="kds", owner="Chef")


def outbound(o: Order, attempt: int = 1, kind: str = "orders", payload: bytes | None = None) -> Outbound:
    return Outbound(
        delivery_id=1,
        delivery_key=f"{o.id}:{o.version}:kds",
        message_id=1,
        flow_id="pos-to-kds",
        destination="kds",
        location_id=o.location_id,
        kind=kind,
        payload=payload if payload is not None else msgspec.json.encode(o),
        content_type="application/json",
        attempt=attempt,
    )


def context(kitchen: Kitchen | None) -> ConnectorContext:
    services = Services(kitchen=kitchen)
    return ConnectorContext(catalog=Catalog(systems=[SYSTEM]), system=SYSTEM, services=services)


def test_connector_declares_a_sink() -> None:
    assert CONNECTOR.name == "kds"
    assert CONNECTOR.make_sink is make_sink


def test_missing_kitchen_service_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="kitchen service"):
        make_sink(context(None))


def test_sink_makes_tickets_once_across_retries_and_versions(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        sink = make_sink(context(kitchen))
        assert isinstance(sink, Sink)
        first = await sink.deliver(outbound(order()))
        assert first.records == 3
        assert ticket_id_for("o-1", "grill") in first.remote_ref
        retry = await sink.deliver(outbound(order(), attempt=2))
        assert retry.records == 0
        assert "already shown" in retry.remote_ref
        v2 = order(lines=[burger(), line("l-2", "Cheeseburger")], version=2)
        changed = await sink.deliver(outbound(v2))
        assert changed.records == 2  # grill add-on + expo
        [grill] = kitchen.tickets_for("grill")
        assert [(i.name, i.added) for i in grill.items] == [("Classic Burger", False), ("Cheeseburger", True)]

    with_kitchen(make_kitchen(tmp_path), scenario)


def test_wrong_kind_or_bad_payload_is_terminal(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        sink = make_sink(context(kitchen))
        with pytest.raises(TerminalError, match="punches"):
            await sink.deliver(outbound(order(), kind="punches"))
        with pytest.raises(TerminalError, match="not a canonical order"):
            await sink.deliver(outbound(order(), payload=b'{"id": "x"}'))
        assert kitchen.tickets_for("grill") == []

    with_kitchen(make_kitchen(tmp_path), scenario)
