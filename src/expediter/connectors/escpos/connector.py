"""The ``escpos`` connector: one kitchen printer per system, fed the station's part of each order.

Each printer is its own system, so the engine gives it its own delivery lane: a dead printer retries
(``TransientError``) without holding up another printer or a screen. An order it never printed with
nothing newer than ``max_age_minutes`` is skipped with a zero-record receipt; in
``when_screen_offline`` mode a ticket prints only while no screen of the station is connected (the
count comes from the kitchen service). Slips show the location's local time.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta, tzinfo
from zoneinfo import ZoneInfo

from expediter.connectors.escpos.client import send
from expediter.connectors.escpos.config import PrinterSettings, PrintMode
from expediter.connectors.escpos.formats import render
from expediter.connectors.escpos.mapping import changes_since, print_ticket, station_items
from expediter.connectors.kds.mapping import order_from
from expediter.model import clock
from expediter.model.kitchen import Printed, RoutingRules, TicketItem, is_stale, struck_through
from expediter.model.order import Order, OrderState
from expediter.plugin import (
    Capability,
    ConfigError,
    Connector,
    ConnectorContext,
    KitchenService,
    Outbound,
    Receipt,
    connector_settings,
)


class EscposSink:
    def __init__(
        self,
        printer_id: str,
        settings: PrinterSettings,
        rules: RoutingRules,
        kitchen: KitchenService | None = None,
        timezones: dict[str, str] | None = None,
    ) -> None:
        self.printer_id = printer_id
        self.timezones = dict(timezones or {})
        """Location id → IANA time zone (from the catalog): slips show the kitchen's local time."""
        self.settings = settings
        self.rules = rules
        self.kitchen = kitchen

    @property
    def address(self) -> str:
        return f"tcp://{self.settings.host}:{self.settings.port}"

    async def deliver(self, item: Outbound) -> Receipt:
        order = order_from(item)
        previous = await self._printed(order.id)
        reason = self.skip_reason(order, previous)
        if reason:
            return Receipt(records=0, remote_ref=f"{self.address} skipped: {reason}")
        if order.state is OrderState.CANCELED:
            if previous is None:
                return Receipt(records=0, remote_ref=f"{self.address} skipped: canceled before it printed")
            order = struck_through(order)  # every line prints as VOID
        items = station_items(order, self.settings.station, self.rules)
        if previous is not None and order.version <= previous.version:
            return Receipt(
                records=0, remote_ref=f"{self.address} skipped: v{previous.version} already printed"
            )
        if previous is None:
            to_print, memory = items, items
        else:
            to_print, memory = changes_since(previous.items, items, order.version)
        if not to_print:
            return Receipt(
                records=0, remote_ref=f"{self.address} skipped: nothing for {self.settings.station}"
            )
        ticket = print_ticket(
            order, self.settings.station, to_print, first=previous is None, zone=self._zone(order)
        )
        data = render(ticket, self.settings.width)
        await send(self.settings.host, self.settings.port, data, self.settings.timeout_seconds)
        await self._remember(order, memory)
        return Receipt(
            records=1,
            bytes=len(data),
            remote_ref=f"{self.address} ticket {ticket.ticket_id}",
            checksum="sha256:" + hashlib.sha256(data).hexdigest(),
        )

    def skip_reason(self, order: Order, previous: Printed | None = None) -> str:
        """Why this order is not printed now ('' when it is).

        The age limit keeps a printer back from a night off from dumping tickets nobody waits for,
        so it applies to orders this printer never printed, aged from the newest thing that happened
        on the order (:func:`~expediter.model.kitchen.is_stale`). A newer version of
        an order it did print (a dessert added 45 minutes into a table) is a change to a slip already
        on the rail: it always prints."""
        limit = timedelta(minutes=self.settings.max_age_minutes)
        if previous is None and is_stale(order, clock.now(), limit):
            return f"older than {self.settings.max_age_minutes} minutes"
        offline_only = self.settings.mode is PrintMode.WHEN_SCREEN_OFFLINE
        if offline_only and self.kitchen is not None and self.kitchen.screens_online(self.settings.station):
            return f"{self.settings.station} screen online"
        return ""

    def _zone(self, order: Order) -> tzinfo | None:
        """The location's time zone (the clock on the kitchen wall), or None when unknown."""
        name = self.timezones.get(order.location_id)
        return ZoneInfo(name) if name else None

    async def _printed(self, order_id: str) -> Printed | None:
        if self.kitchen is None:
            return None
        return await self.kitchen.store.printed(self.printer_id, order_id)

    async def _remember(self, order: Order, items: list[TicketItem]) -> None:
        if self.kitchen is not None:
            printed = Printed(printer=self.printer_id, order_id=order.id, version=order.version, items=items)
            await self.kitchen.store.record_printed(printed)


def make_sink(ctx: ConnectorContext) -> EscposSink:
    settings = connector_settings(ctx, PrinterSettings, strict=False)
    kitchen = ctx.services.kitchen
    if not isinstance(kitchen, KitchenService):
        if settings.mode is PrintMode.WHEN_SCREEN_OFFLINE:
            raise ConfigError(
                f"system {ctx.system.id!r}: mode 'when_screen_offline' needs the kitchen service; "
                "enable the kds system or use mode = 'always'"
            )
        kitchen = None
    rules = (
        kitchen.rules
        if kitchen is not None
        else RoutingRules(category_stations=ctx.catalog.mappings.stations)
    )
    timezones = {location.id: location.timezone for location in ctx.catalog.locations}
    return EscposSink(ctx.system.id, settings, rules, kitchen, timezones=timezones)


CONNECTOR = Connector(
    name="escpos",
    title="ESC/POS kitchen printer (raw TCP 9100)",
    capabilities=frozenset({Capability.SINK, Capability.KITCHEN_SERVICE}),
    settings_type=PrinterSettings,
    make_sink=make_sink,
    description="Prints a station's part of each order on a network kitchen printer; add-ons and voids "
    "print as change slips; stale orders are skipped; can print only while the station's screen is offline.",
)
