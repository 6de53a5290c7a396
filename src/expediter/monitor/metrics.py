"""``/metrics``: the hub in Prometheus' text format, built when it is scraped.

Every series is read at scrape time from what is true for the whole hub, never from one
process's memory, so several hub processes on one database (``serve --workers N``) answer alike:

- **counters** (``_total``) and the **delivery latency histogram** from the totals every process
  adds to the database each second (:mod:`expediter.engine.counters`); transfers from the ledger's
  own running totals (``transfer_totals``, written with each transfer, so runs made by the CLI
  count too);
- **gauges** from the database as it is now: deliveries pending per lane, lanes waiting, dead
  letters per flow, alerts firing (the watching process keeps them in the ``alerts`` table);
- the **kitchen** gauges (open tickets, connected screens per station) from the kitchen service,
  which runs in one process only.

Labels are flow, system, location, station and outcome ids from the catalog and the engine's
closed vocabularies (a bounded set), never message contents. Each call builds a fresh registry with
one custom collector (prometheus-client's documented way to expose values kept elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from expediter.catalog.schema import Catalog, Level
from expediter.engine import lanes
from expediter.engine.counters import INFINITY, LATENCY_BUCKETS, Count, Key, totals
from expediter.engine.hub import HubServices
from expediter.engine.lanes import DeliveryState
from expediter.engine.router import lane_of
from expediter.ledger.ledger import FlowSummary, summarize
from expediter.monitor.alert_store import open_alerts
from expediter.monitor.alerts import Alert, AlertKind
from expediter.storage.base import Tx

PREFIX = "expediter"


class Snapshot(msgspec.Struct, kw_only=True):
    """What the database says at one moment (one read transaction)."""

    counts: dict[Key, int]
    transfers: dict[str, FlowSummary]
    pending: dict[str, int]
    dead: dict[str, int]
    waiting: list[lanes.WaitingLane]
    alerts: list[Alert]


def read_snapshot(tx: Tx) -> Snapshot:
    return Snapshot(
        counts=totals(tx),
        transfers=summarize(tx),
        pending=lanes.pending_by_lane(tx),
        dead=lanes.dead_by_flow(tx),
        waiting=lanes.waiting_lanes(tx, limit=10_000),
        alerts=open_alerts(tx),
    )


async def exposition(hub: Any) -> tuple[bytes, str]:
    """The text format body and its content type, for ``hub`` as every process sees it."""
    await hub.counters.flush(hub.storage)  # this process's last second counts too
    snapshot: Snapshot = await hub.storage.read(read_snapshot)
    families = [*families_from(snapshot, hub.catalog), *kitchen_families(hub)]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Families:
    """A custom collector handing prometheus-client the families built for one scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def families_from(snapshot: Snapshot, catalog: Catalog) -> list[Metric]:
    return [
        *message_families(snapshot.counts),
        delivery_family(snapshot.counts),
        latency_family(snapshot.counts),
        transfer_family(snapshot.transfers),
        pending_family(snapshot.pending, catalog),
        waiting_family(snapshot.waiting),
        dead_family(snapshot.dead, catalog),
        alerts_family(snapshot.alerts),
    ]


def _name(short: str) -> str:
    return f"{PREFIX}_{short}"


def _counted(counts: dict[Key, int], count: Count) -> Iterable[tuple[tuple[str, ...], int]]:
    return sorted((labels, value) for (name, labels), value in counts.items() if name is count)


def message_families(counts: dict[Key, int]) -> list[Metric]:
    accepted = CounterMetricFamily(
        _name("messages_accepted"),
        "Messages stored by the inbox, by source system and kind.",
        labels=["source", "kind"],
    )
    duplicate = CounterMetricFamily(
        _name("messages_duplicate"),
        "Messages refused as duplicates of one already stored (acknowledged, stored once).",
        labels=["source", "kind"],
    )
    for family, count in ((accepted, Count.MESSAGES_ACCEPTED), (duplicate, Count.MESSAGES_DUPLICATE)):
        for labels, value in _counted(counts, count):
            family.add_metric(list(labels), value)
    return [accepted, duplicate]


def delivery_family(counts: dict[Key, int]) -> Metric:
    family = CounterMetricFamily(
        _name("deliveries"),
        "Delivery attempts by flow and outcome (delivered, retrying, dead).",
        labels=["flow", "outcome"],
    )
    for labels, value in _counted(counts, Count.DELIVERIES):
        family.add_metric(list(labels), value)
    return family


def latency_family(counts: dict[Key, int]) -> Metric:
    family = HistogramMetricFamily(
        _name("delivery_latency_seconds"),
        "Seconds from a message being stored to its delivery, by flow (retries included).",
        labels=["flow"],
    )
    by_flow: dict[str, dict[str, int]] = {}
    for (flow_id, le), value in _counted(counts, Count.LATENCY_BUCKET):
        by_flow.setdefault(flow_id, {})[le] = value
    sums = {labels[0]: value for labels, value in _counted(counts, Count.LATENCY_SUM_US)}
    for flow_id, buckets in sorted(by_flow.items()):
        family.add_metric([flow_id], _cumulative(buckets), sum_value=sums.get(flow_id, 0) / 1_000_000)
    return family


def _cumulative(buckets: dict[str, int]) -> list[tuple[str, float]]:
    running, found = 0, []
    for bound in LATENCY_BUCKETS:
        running += buckets.get(repr(bound), 0)
        found.append((repr(bound), float(running)))
    found.append((INFINITY, float(running + buckets.get(INFINITY, 0))))
    return found


def transfer_family(transfers: dict[str, FlowSummary]) -> Metric:
    family = CounterMetricFamily(
        _name("transfers"),
        "Transfers recorded in the ledger, by flow and outcome (every process and command).",
        labels=["flow", "outcome"],
    )
    for flow_id, summary in sorted(transfers.items()):
        for outcome, value in sorted(summary.counts.items()):
            family.add_metric([flow_id, outcome], value)
    return family


def pending_family(pending: dict[str, int], catalog: Catalog) -> Metric:
    family = GaugeMetricFamily(
        _name("deliveries_pending"),
        "Deliveries not yet delivered (pending or retrying), per lane: destination and location.",
        labels=["destination", "location"],
    )
    for lane, value in sorted((_catalog_lanes(catalog) | pending).items()):
        destination, _, location = lane.rpartition("|")
        family.add_metric([destination, location], value)
    return family


def _catalog_lanes(catalog: Catalog) -> dict[str, int]:
    """Every lane the catalog's real-time flows can fill, at zero (so an empty lane reads 0)."""
    found: dict[str, int] = {}
    everywhere = [location.id for location in catalog.locations]
    for flow in catalog.flows:
        destination = catalog.system(flow.to)
        if not flow.enabled or flow.level is not Level.REALTIME or destination is None:
            continue
        for location_id in destination.locations or everywhere:
            found[lane_of(destination.id, location_id)] = 0
    return found


def waiting_family(waiting: list[lanes.WaitingLane]) -> Metric:
    family = GaugeMetricFamily(
        _name("lanes_waiting"),
        "Lanes whose first delivery cannot go now, by why: a dead letter holds it, or it is retrying.",
        labels=["reason"],
    )
    held = sum(lane.head.state is DeliveryState.DEAD for lane in waiting)
    family.add_metric(["dead_letter"], held)
    family.add_metric(["retrying"], len(waiting) - held)
    return family


def dead_family(dead: dict[str, int], catalog: Catalog) -> Metric:
    family = GaugeMetricFamily(
        _name("dead_letters"),
        "Dead letters waiting for a person (replay them once the cause is fixed), by flow.",
        labels=["flow"],
    )
    zero = {flow.id: 0 for flow in catalog.flows if flow.level is Level.REALTIME}
    for flow_id, value in sorted((zero | dead).items()):
        family.add_metric([flow_id], value)
    return family


def alerts_family(alerts: list[Alert]) -> Metric:
    family = GaugeMetricFamily(_name("alerts_firing"), "Alerts firing now, by kind.", labels=["kind"])
    for kind in AlertKind:
        family.add_metric([kind.value], sum(alert.kind is kind for alert in alerts))
    return family


def kitchen_families(hub: Any) -> list[Metric]:
    """Open tickets and connected screens per station, when this process runs the kitchen."""
    kitchen = getattr(hub, "services", HubServices()).kitchen
    if kitchen is None:
        return []
    tickets = GaugeMetricFamily(
        _name("kitchen_open_tickets"), "Tickets open on each station's screens.", labels=["station"]
    )
    screens = GaugeMetricFamily(
        _name("kitchen_screens_connected"),
        "Kitchen screens connected to each station's live feed now.",
        labels=["station"],
    )
    for station in kitchen.stations():
        tickets.add_metric([station], len(kitchen.tickets_for(station)))
        screens.add_metric([station], kitchen.screens_online(station))
    return [tickets, screens]
