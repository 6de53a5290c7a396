"""Reconciliation, gathered: the facts each check compares, read from the hub, then checked and stored.

The comparisons themselves are small functions on model objects in
:mod:`expediter.monitor.reconcile`; this module reads what they need through the hub's own
tables and the ledger's lineage (each a lookup: the day's messages by the day index, the transfers
that carried them by their ids), asks the kitchen for its tickets, runs the nightly poll of a
system with webhooks and a polling fallback, and asks each file's destination whether it holds
what the ledger says was delivered.

Which checks a location-day gets follows the catalog: ``sales`` when a journal or sales-summary
file flow serves it, ``kitchen`` per flow of orders to a kds system, ``webhooks`` per system
whose connector both receives webhooks and polls, ``labor`` when a labor or payroll flow serves
it, ``online`` per flow of orders from an online-ordering system to a POS, ``deliveries`` when
any file flow does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar

import msgspec
import structlog

from expediter.catalog.schema import Flow, Level, SystemKind
from expediter.engine.acknowledge import acknowledgements
from expediter.engine.hub import Hub
from expediter.engine.jobs import punches_between, refunded_orders_between
from expediter.engine.menu import current_menu
from expediter.engine.polls import NIGHTLY_POLL, poll, poll_flow_id
from expediter.engine.reconcile.day import (
    Day,
    EarlierRefunds,
    KitchenTickets,
    file_due,
    newest_by_ref,
)
from expediter.engine.reconcile.gather import (
    attempts_on,
    handed_version,
    one_per_check,
    sent_order,
    source_orders,
    worked_on,
)
from expediter.engine.schedule_time import business_day_end
from expediter.errors import ConfigError, ExpediterError
from expediter.ledger.lineage import LinkRow
from expediter.ledger.transfers import Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.kitchen import menu_station_map
from expediter.model.labor import TimePunch
from expediter.model.location import Location
from expediter.monitor.reconcile.deliveries import DeliveryFacts, check_deliveries
from expediter.monitor.reconcile.kitchen import Handed, KitchenFacts, check_kitchen
from expediter.monitor.reconcile.labor import LaborFacts, SentPunches, check_labor
from expediter.monitor.reconcile.model import CheckName, CheckResult, CheckState
from expediter.monitor.reconcile.online import OnlineFacts, check_online
from expediter.monitor.reconcile.sales import SalesFacts, SentOrders, check_sales
from expediter.monitor.reconcile.store import load_results, save_results
from expediter.monitor.reconcile.webhooks import WebhookFacts, check_webhooks
from expediter.operations.kitchen.routing import RoutingRules
from expediter.operations.kitchen.service import KitchenSettings
from expediter.plugin.base import Capability

log = structlog.get_logger(__name__)

SALES_DATA = frozenset({"journal", "sales_summary"})
LABOR_DATA = frozenset({"labor", "payroll"})
NIGHTLY_POLL_REACH = timedelta(days=1)
"""The nightly poll asks for orders updated from the day's start until this long after its end
(a check paid after the close is updated then), or until now."""
_punches = msgspec.json.Decoder(TimePunch)

LOCATIONS_AT_ONCE = 2
Facts = TypeVar("Facts")


async def _off_loop(check: Callable[[Facts], CheckResult], facts: Facts) -> CheckResult:
    """A comparison builds journals and summaries: run it on a worker thread, so the kitchen's
    screens and the API keep their event loop."""
    return await asyncio.to_thread(check, facts)


class Reconciler:
    """Reconciles location-days and stores the results (``reconciliations``)."""

    def __init__(self, hub: Hub, kitchen: KitchenTickets | None = None, *, poll: bool = True) -> None:
        self.hub = hub
        self.catalog = hub.catalog
        self.kitchen = kitchen
        self.poll = poll
        """Whether a day with a polling system gets its nightly poll (off: compare what is there)."""
        self._polled: list[str] | None = None

    @cached_property
    def _kitchen_screens(self) -> frozenset[str]:
        """The systems that are the kitchen's screens (their connector says so, not their name)."""
        return frozenset(s.id for s in self.hub.systems_offering(Capability.KITCHEN_SCREENS))

    async def reconcile(
        self,
        location_ids: Sequence[str],
        start: date,
        end: date,
        checks: Sequence[CheckName] = (),
        now: datetime | None = None,
    ) -> list[CheckResult]:
        """Every check of every location-day in [start, end]; stored, and returned. Locations go
        two at a time (one's reads overlap the other's comparisons)."""
        now = now or clock.now()
        previous = {r.key: r for r in await load_results(self.hub.storage, start, end, location_ids)}
        locations = []
        for location_id in location_ids:
            location = self.catalog.location(location_id)
            if location is None:
                raise ConfigError(f"no location {location_id!r} in the catalog")
            locations.append(location)
        gate = asyncio.Semaphore(LOCATIONS_AT_ONCE)

        async def one(location: Location) -> list[CheckResult]:
            async with gate:
                return await self._location(location, start, end, checks, previous, now)

        found = await asyncio.gather(*(one(location) for location in locations))
        return [result for results in found for result in results]

    async def _location(
        self,
        location: Location,
        start: date,
        end: date,
        checks: Sequence[CheckName],
        previous: dict[Any, CheckResult],
        now: datetime,
    ) -> list[CheckResult]:
        mine: list[CheckResult] = []
        refunds = None
        if CheckName.SALES in (checks or CheckName) and self._file_flows(location, SALES_DATA):
            refunds = EarlierRefunds(location, await refunded_orders_between(self.hub, location, start, end))
        for offset in range((end - start).days + 1):
            day = Day(self.hub, location, start + timedelta(days=offset), now, refunds)
            mine += await self.reconcile_day(day, checks, previous)
            if refunds is not None:
                refunds.add(o for _, o in newest_by_ref(await day.orders()).values())
        await save_results(self.hub.storage, mine)  # one commit per location
        return mine

    async def reconcile_day(
        self, day: Day, checks: Sequence[CheckName], previous: dict[Any, CheckResult]
    ) -> list[CheckResult]:
        wanted = set(checks or CheckName)
        results: list[CheckResult] = []
        if CheckName.SALES in wanted:
            results += await self._sales(day)
        if CheckName.KITCHEN in wanted:
            results += await self._kitchen(day, previous)
        if CheckName.WEBHOOKS in wanted:
            results += await self._webhooks(day, previous)
        if CheckName.LABOR in wanted:
            results += await self._labor(day)
        if CheckName.ONLINE in wanted:
            results += await self._online(day)
        if CheckName.DELIVERIES in wanted:
            results += await self._deliveries(day)
        for result in results:
            result.checked_at = day.now
        return one_per_check(results)

    def _serving(self, flow: Flow, location: Location) -> bool:
        destination = self.catalog.system(flow.to)
        return flow.enabled and (
            destination is None or not destination.locations or location.id in destination.locations
        )

    def _file_flows(self, location: Location, data: frozenset[str] | None = None) -> list[Flow]:
        return [
            f
            for f in self.catalog.flows
            if f.level is Level.FILE
            and f.trigger != "file_arrival"
            and (data is None or f.data in data)
            and self._serving(f, location)
        ]

    # -- sales --------------------------------------------------------------------------------------

    async def _sales(self, day: Day) -> list[CheckResult]:
        flows = self._file_flows(day.location, SALES_DATA)
        if not flows:
            return []
        now = [o for _, o in newest_by_ref(await day.orders()).values()]
        if day.refunds is not None:
            now += day.refunds.on(day.day)
        else:
            now += await refunded_orders_between(self.hub, day.location, day.day, day.day)
        files = []
        for flow in flows:
            transfer = await day.latest_file(flow)
            carried = day.decoded(await day.carried(transfer))
            files.append(
                SentOrders(
                    flow_id=flow.id,
                    data=flow.data,
                    sent=transfer is not None,
                    due=file_due(flow, day.location, day.day, day.now),
                    file_name=transfer.file_name if transfer else "",
                    orders=[o for _, o in carried],
                )
            )
        facts = SalesFacts(
            location=day.location,
            business_date=day.day,
            orders=now,
            files=files,
            mappings=self.catalog.mappings,
        )
        return [await _off_loop(check_sales, facts)]

    # -- kitchen ------------------------------------------------------------------------------------

    def _kitchen_flows(self, location: Location) -> list[Flow]:
        return [
            f
            for f in self.catalog.flows
            if f.level is Level.REALTIME
            and f.data == "orders"
            and (s := self.catalog.system(f.to)) is not None
            and s.id in self._kitchen_screens
            and self._serving(f, location)
        ]

    async def _menu_stations(self) -> dict[str, dict[str, list[str]]]:
        """The stored menu's stations, as the kitchen routes by them (:mod:`expediter.engine.menu`)."""
        menu = await self.hub.storage.read(current_menu)
        return {location: menu_station_map(items) for location, items in menu.items()}

    async def _kitchen(self, day: Day, previous: dict[Any, CheckResult]) -> list[CheckResult]:
        """One check per kitchen system, over every flow that brings it orders."""
        by_kitchen: dict[str, list[Flow]] = {}
        for flow in self._kitchen_flows(day.location):
            by_kitchen.setdefault(flow.to, []).append(flow)
        results = []
        for system_id, flows in by_kitchen.items():
            system = self.catalog.system(system_id)
            settings = msgspec.convert(system.settings if system else {}, KitchenSettings, strict=False)
            kept = day.now - timedelta(hours=settings.keep_hours) <= business_day_end(day.location, day.day)
            if not kept and (day.location.id, day.day, CheckName.KITCHEN) in previous:
                continue  # the day's tickets are gone: the result from when they were kept stands
            handed: dict[str, list[Handed]] = {}
            flow_of: dict[str, str] = {}
            for flow in flows:
                for order_id, versions in (await self._handed(day, flow)).items():
                    handed.setdefault(order_id, []).extend(versions)
                    flow_of.setdefault(order_id, flow.id)
            facts = KitchenFacts(
                location_id=day.location.id,
                business_date=day.day,
                flow_id=flows[0].id,
                flow_of=flow_of,
                rules=RoutingRules(
                    category_stations=self.catalog.mappings.stations,
                    plu_stations=self.catalog.mappings.plu_stations,
                    default_station=settings.default_station,
                    menu_stations=await self._menu_stations(),
                ),
                max_age=timedelta(minutes=settings.max_age_minutes),
                handed=handed,
                tickets=await self._tickets(list(handed)),
                kept=kept,
            )
            results.append(await _off_loop(check_kitchen, facts))
        return results

    async def _handed(self, day: Day, flow: Flow) -> dict[str, list[Handed]]:
        """Order id → each version and what became of its delivery on ``flow``."""
        pairs = await day.orders(flow.from_)
        links = await day.links([m.id for m, _ in pairs])
        transfers = await day.transfers(link.transfer_id for found in links.values() for link in found)
        handed: dict[str, list[Handed]] = {}
        for message, order in pairs:
            attempts = attempts_on(links[message.id], transfers, flow.id)
            handed.setdefault(order.id, []).append(handed_version(order, attempts))
        return handed

    async def _tickets(self, order_ids: list[str]) -> dict[str, set[str]]:
        kitchen = self.kitchen or self._kitchen_store()
        if kitchen is None or not order_ids:
            return {}
        found: dict[str, set[str]] = {}
        for ticket in await kitchen.tickets_of_orders(order_ids):
            found.setdefault(ticket.order_id, set()).add(ticket.station)
        return found

    def _kitchen_store(self) -> KitchenTickets | None:
        service = self.hub.services.kitchen
        store = getattr(service, "store", None)
        return store if store is not None else None

    # -- webhooks and the nightly poll --------------------------------------------------------------

    def _polled_systems(self) -> list[str]:
        """Systems whose connector both receives webhooks and polls (looked up once)."""
        if self._polled is None:
            self._polled = []
            for system in self.catalog.systems:
                connector = self.hub.connector(system.connector)
                if (
                    connector is not None
                    and connector.poll is not None
                    and connector.make_webhook is not None
                ):
                    self._polled.append(system.id)
        return self._polled

    async def _webhooks(self, day: Day, previous: dict[Any, CheckResult]) -> list[CheckResult]:
        results = []
        for system_id in self._polled_systems():
            before = previous.get((day.location.id, day.day, CheckName.WEBHOOKS))
            nightly, error = await self._nightly_poll(day, system_id, before)
            pairs = await day.orders(system_id)
            links = await day.links([m.id for m, _ in pairs])
            found = set(await self.hub.ledger.carried_by(nightly.id)) if nightly and nightly.id else set()
            facts = WebhookFacts(
                location_id=day.location.id,
                business_date=day.day,
                system_id=system_id,
                flow_id=next((f.id for f in self.catalog.flows_from(system_id)), ""),
                currency=day.location.currency,
                polled=nightly is not None or bool(error),
                poll_error=error,
                orders=source_orders(pairs, links, found),
            )
            results.append(await _off_loop(check_webhooks, facts))
        return results

    async def _nightly_poll(
        self, day: Day, system_id: str, before: CheckResult | None
    ) -> tuple[Transfer | None, str]:
        """The day's nightly poll: the last one, or a new one once the day has closed (again when
        the last result differed, so a fix shows)."""
        flow_id = poll_flow_id(system_id)
        done = await self.hub.ledger.day_transfers(flow_id, day.location.id, day.day, day.day)
        done = [t for t in done if t.endpoint == NIGHTLY_POLL and t.outcome is TransferOutcome.SUCCEEDED]
        again = before is None or before.state is not CheckState.AGREE
        if not day.closed or not self.poll or (done and not again):
            return (done[-1] if done else None), ""
        start = business_day_end(day.location, day.day - timedelta(days=1))
        end = min(day.now, business_day_end(day.location, day.day) + NIGHTLY_POLL_REACH)
        try:
            result = await poll(
                self.hub, system_id, start, end, location_id=day.location.id, business_date=day.day
            )
        except ExpediterError as exc:
            log.warning("nightly poll failed", system=system_id, location=day.location.id, error=str(exc))
            return None, str(exc)
        [transfer] = await self.hub.ledger.get([result.transfer_id])
        return transfer, ""

    # -- labor --------------------------------------------------------------------------------------

    async def _labor(self, day: Day) -> list[CheckResult]:
        flows = self._file_flows(day.location, LABOR_DATA)
        if not flows:
            return []
        ids: list[int] = []
        punches = await punches_between(self.hub, day.location.id, day.day, day.day, ids)
        versions = [m.id for m in await self.hub.inbox.of_day("punches", day.location.id, day.day)]
        links = await day.links(versions)
        transfers = await day.transfers(link.transfer_id for found in links.values() for link in found)
        files = [await self._sent_punches(day, flow, links, transfers) for flow in flows]
        return [
            await _off_loop(
                check_labor,
                LaborFacts(location=day.location, business_date=day.day, punches=punches, files=files),
            )
        ]

    async def _sent_punches(
        self, day: Day, flow: Flow, links: dict[int, list[LinkRow]], transfers: dict[int, Transfer]
    ) -> SentPunches:
        """The flow's latest successful file that carried the day's punches (a labor file of the
        night, or the payroll file whose period covers it)."""
        if flow.data == "labor":
            transfer = await day.latest_file(flow)
            due = file_due(flow, day.location, day.day, day.now)
        else:
            carrying = {link.transfer_id for found in links.values() for link in found}
            mine = [
                transfers[t] for t in sorted(carrying) if t in transfers and transfers[t].flow_id == flow.id
            ]
            succeeded = [t for t in mine if t.outcome is TransferOutcome.SUCCEEDED]
            transfer, due = (succeeded[-1] if succeeded else None), False
        carried = [m for m in await day.carried(transfer) if m.kind == "punches"]
        punches = [
            p for p in (_punches.decode(m.payload) for m in carried) if worked_on(p, day.location, day.day)
        ]
        return SentPunches(
            flow_id=flow.id, data=flow.data, sent=transfer is not None, due=due, punches=punches
        )

    # -- online orders to the POS -------------------------------------------------------------------

    def _online_flows(self, location: Location) -> list[Flow]:
        found = []
        for flow in self.catalog.flows:
            source, target = self.catalog.system(flow.from_), self.catalog.system(flow.to)
            if source is None or target is None or flow.data != "orders" or flow.level is not Level.REALTIME:
                continue
            if (
                source.kind == SystemKind.ONLINE_ORDERING
                and target.kind == SystemKind.POS
                and self._serving(flow, location)
            ):
                found.append(flow)
        return found

    async def _online(self, day: Day) -> list[CheckResult]:
        results = []
        for flow in self._online_flows(day.location):
            newest = newest_by_ref(await day.orders(flow.from_))
            links = await day.links([m.id for m, _ in newest.values()])
            transfers = await day.transfers(link.transfer_id for found in links.values() for link in found)
            orders = [
                sent_order(order, attempts_on(links[message.id], transfers, flow.id))
                for message, order in newest.values()
            ]
            facts = OnlineFacts(
                location_id=day.location.id,
                business_date=day.day,
                flow_id=flow.id,
                currency=day.location.currency,
                orders=sorted(orders, key=lambda o: o.order_id),
            )
            results.append(await _off_loop(check_online, facts))
        return results

    # -- what the destinations hold -----------------------------------------------------------------

    async def _deliveries(self, day: Day) -> list[CheckResult]:
        flows = self._file_flows(day.location)
        if not flows:
            return []
        acks = []
        for flow in flows:
            sent = await self.hub.ledger.day_transfers(
                flow.id, day.location.id, day.day, day.day, TransferOutcome.SUCCEEDED
            )
            latest = {t.file_name: t for t in sent if t.file_name}
            if latest:
                acks += await acknowledgements(self.hub, flow, list(latest.values()))
        return [
            await _off_loop(
                check_deliveries,
                DeliveryFacts(location_id=day.location.id, business_date=day.day, files=acks),
            )
        ]


__all__ = ["Day", "EarlierRefunds", "KitchenTickets", "Reconciler", "file_due"]
