"""The router: which destinations a message goes to, decided from the catalog alone.

A message from system S of kind K goes to every enabled real-time flow ``S → D`` whose ``data`` is K (when D
declares locations, only if it serves the message's location), plus ``S#process`` when S's
connector has a processor (e.g. fetch the full order a webhook only names). The deliveries are
inserted in the same transaction as the message, so a stored message always has its deliveries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog

from expediter.catalog.schema import Catalog, Level
from expediter.plugin.base import Connector, IncomingMessage
from expediter.storage.base import Tx

PROCESS_SUFFIX = "#process"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Route:
    flow_id: str
    destination: str


def process_destination(system_id: str) -> str:
    return f"{system_id}{PROCESS_SUFFIX}"


def is_process_destination(destination: str) -> bool:
    return destination.endswith(PROCESS_SUFFIX)


def lane_of(destination: str, location_id: str | None) -> str:
    """Deliveries in one lane go strictly in order; lanes are independent."""
    return f"{destination}|{location_id or ''}"


def message_token(hub_identity: str, message_id: int, idempotency_key: str) -> str:
    """What a message's delivery keys share: its row id (so keys of one flow stay in insertion
    order in the index) and a digest of the hub's identity and the message's own idempotency key
    (the row id alone repeats once a backup is restored)."""
    digest = hashlib.blake2b(f"{hub_identity}\n{idempotency_key}".encode(), digest_size=12).hexdigest()
    return f"{message_id}-{digest}"


def delivery_key(flow_id: str, token: str) -> str:
    """Stable across retries and restarts: sinks pass it on so a retry never acts twice.

    ``token`` is :func:`message_token`, so a key never repeats for another message: not after a
    backup of the database is restored (the restored file hands out the same row ids again, but a
    new order has a new idempotency key), not across hubs (each database has its own random
    identity, ``hub_identity``). Deliveries created before keys were made this way keep their
    stored ``flow:message_id`` keys."""
    return f"{flow_id}:{token}"


def read_hub_identity(tx: Tx) -> str:
    """The database's random identity (migration ``0006_hub_identity``)."""
    row = tx.one("SELECT id FROM hub_identity")
    if row is None:
        raise RuntimeError("the database has no hub identity; its migrations did not run")
    return str(row[0])


class Router:
    def __init__(self, catalog: Catalog, connector_for: Callable[[str], Connector | None]) -> None:
        self.catalog = catalog
        self._connector_for = connector_for
        self._cache: dict[tuple[str, str, str | None, bool], tuple[Route, ...]] = {}

    def routes(self, message: IncomingMessage, *, process: bool = True) -> tuple[Route, ...]:
        """Where ``message`` goes. ``process=False`` for a processor's own output, which is
        canonical already (processing it again would loop)."""
        key = (message.source_system, message.kind, message.location_id, process)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._compute(message, process)
        return found

    def _compute(self, message: IncomingMessage, process: bool) -> tuple[Route, ...]:
        routes = []
        for flow in self.catalog.flows_from(message.source_system, message.kind):
            if flow.level is not Level.REALTIME:
                continue  # file and manual flows move data on a schedule or by hand, not per message
            destination = self.catalog.system(flow.to)
            if destination is None:
                continue
            if destination.locations and message.location_id not in (None, *destination.locations):
                continue
            routes.append(Route(flow.id, flow.to))
        if not process:
            return tuple(routes)
        if self._has_processor(message.source_system):
            target = process_destination(message.source_system)
            routes.append(Route(target, target))
        return tuple(routes)

    def _has_processor(self, system_id: str) -> bool:
        source = self.catalog.system(system_id)
        try:
            connector = self._connector_for(source.connector) if source else None
        except ImportError:
            log.exception("connector_unavailable", system=system_id)
            return False
        return connector is not None and connector.make_processor is not None


_INSERT_DELIVERY = (
    "INSERT INTO deliveries (delivery_key, message_id, flow_id, destination, location_id, lane, state,"
    " attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"
)
PENDING = "pending"


def insert_deliveries(
    tx: Tx,
    message_id: int,
    token: str,
    location_id: str | None,
    routes: tuple[Route, ...],
    now: str,
    holds: Mapping[str, str] | None = None,
) -> list[str]:
    """Create one delivery per route, keyed by ``token`` (:func:`message_token`): ``pending``, or
    the state ``holds`` gives its flow (``held``, ``quarantined``: a drift's policy); return the
    lanes that got work."""
    lanes = []
    for route in routes:
        lane = lane_of(route.destination, location_id)
        state = holds.get(route.flow_id, PENDING) if holds else PENDING
        tx.execute(
            _INSERT_DELIVERY,
            (
                delivery_key(route.flow_id, token),
                message_id,
                route.flow_id,
                route.destination,
                location_id,
                lane,
                state,
                now,
                now,
                now,
            ),
        )
        if state == PENDING:
            lanes.append(lane)
    return lanes
