"""The group hub stores what its restaurants relayed: each edge message once, in order per location.

For each location a durable pull consumer (``group-hub``) on the group's copy ``EDGE_<location>``,
filtered to the messages (``expediter.edge.<location>.<kind>.<location>``; the kitchen's station
events have one token more and stay in the stream), hands each message to the group hub's inbox
as the edge stored it (source system, kind, idempotency key, location, business date and ref from
the publication's headers, see :data:`~expediter.engine.bus.outbox.META_HEADERS`) and
acknowledges it only after the commit. A message is stored before the next one is looked at (a
failing store is retried in place), so the group's database holds each location's messages in the
order rung in.

Keys: an edge's idempotency keys are unique within its restaurant only (two restaurants whose POS
share a system id both ring order 1001 version 1), so the group stores each under
:func:`group_key`, ``edge:<location>:<the edge's key>``; the inbox is idempotent by that key, a
redelivery is a duplicate there, and the group's delivery keys (made from it) differ per location
too. A message the group stored before keys named the location is under the edge's bare key with
its location: one found so is that message again (:func:`stored_unscoped`), never stored twice.

The edge's transfers come the same way (kind token ``ledger``) and go to the group's ledger, not
its inbox (:mod:`expediter.edge.transfers`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec
import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from expediter.catalog.schema import GroupEdges
from expediter.edge.names import group_stream
from expediter.edge.streams import edge_bus_settings, ensure_group_streams
from expediter.edge.transfers import LEDGER_KIND, record_edge_transfer
from expediter.engine.bus.outbox import META_HEADERS
from expediter.engine.bus.relay import MSG_ID, STABLE_ID
from expediter.engine.hub import Hub
from expediter.engine.messages import payload_at_location
from expediter.errors import RejectedInput
from expediter.plugin.base import IncomingMessage
from expediter.storage.base import Tx

log = structlog.get_logger(__name__)

INTAKE_CONSUMER = "group-hub"
FETCH_BATCH = 100
FETCH_SECONDS = 1.0
RETRY_SECONDS = 1.0


def group_key(location: str, edge_key: str) -> str:
    """The key the group stores an edge's message under: the edge's own, naming the location."""
    return f"edge:{location}:{edge_key}"


def edge_key(raw: Msg) -> str:
    """The key the edge stored the message under (the subject when the publication predates the
    headers)."""
    headers = raw.headers or {}
    return headers.get(STABLE_ID) or headers.get(MSG_ID) or raw.subject


def edge_message(raw: Msg, location: str) -> tuple[IncomingMessage, str | None, date | None]:
    """The message as the edge stored it, under its :func:`group_key`, with its ref and business
    date (kind and location from the subject when the publication predates the headers)."""
    headers = raw.headers or {}
    _, kind, subject_location = raw.subject.rsplit(".", 2)
    day = headers.get(META_HEADERS["business_date"])
    message = IncomingMessage(
        source_system=headers.get(META_HEADERS["source_system"]) or f"edge-{location}",
        kind=headers.get(META_HEADERS["kind"]) or kind,
        idempotency_key=group_key(location, edge_key(raw)),
        payload=bytes(raw.data),
        content_type=headers.get(META_HEADERS["content_type"]) or "application/json",
        location_id=headers.get(META_HEADERS["location_id"]) or subject_location,
    )
    return message, headers.get(META_HEADERS["ref"]), date.fromisoformat(day) if day else None


def stored_unscoped(edge_key: str, location_id: str | None) -> Callable[[Tx], bytes | None]:
    """The payload of the location's message stored under the edge's bare key (before the group's
    keys named the location), if there is one."""
    return lambda tx: payload_at_location(tx, edge_key, location_id)


class EdgeIntake:
    """One durable consumer per location, each storing into ``hub``'s inbox."""

    def __init__(self, hub: Hub, config: GroupEdges, locations: list[str]) -> None:
        self.hub = hub
        self.config = config
        self.locations = locations
        self.stored: dict[str, int] = dict.fromkeys(locations, 0)
        self.duplicates: dict[str, int] = dict.fromkeys(locations, 0)
        self.conflicts: dict[str, int] = dict.fromkeys(locations, 0)
        self.transfers: dict[str, int] = dict.fromkeys(locations, 0)
        """The edge's transfers recorded in the group's ledger (:mod:`expediter.edge.transfers`)."""
        self._nc: Client | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._nc = await nats.connect(
            self.config.nats_url, max_reconnect_attempts=-1, name="expediter-intake"
        )
        for location in self.locations:
            task = asyncio.create_task(self._run(location), name=f"edge intake {location}")
            self._tasks.append(task)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None

    async def _subscribe(self, location: str) -> Any:
        assert self._nc is not None
        js = self._nc.jetstream(domain=self.config.domain)
        await ensure_group_streams(js, location)
        subject = f"{edge_bus_settings(location, '').subject_prefix}.*.*"
        config = ConsumerConfig(
            durable_name=INTAKE_CONSUMER,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subject=subject,
            max_ack_pending=FETCH_BATCH,
        )
        return await js.pull_subscribe(
            subject, durable=INTAKE_CONSUMER, stream=group_stream(location), config=config
        )

    async def _run(self, location: str) -> None:
        subscription: Any = None
        while True:
            try:
                if subscription is None:
                    subscription = await self._subscribe(location)
                batch = await subscription.fetch(FETCH_BATCH, timeout=FETCH_SECONDS)
            except nats.errors.TimeoutError:
                continue
            except Exception as exc:  # the group's JetStream away: the messages wait in the stream
                log.info("edge intake waiting", location=location, error=repr(exc))
                subscription = None
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for raw in batch:
                await self._store(location, raw)
                with contextlib.suppress(Exception):  # a lost ack: redelivered, a duplicate then
                    await raw.ack()

    async def _store(self, location: str, raw: Msg) -> None:
        """Store ``raw`` once; retried in place until it is (the next one waits: order)."""
        if raw.subject.rsplit(".", 2)[1] == LEDGER_KIND:
            await self._record_transfer(location, raw)
            return
        while True:
            try:
                message, ref, day = edge_message(raw, location)
                earlier = await self.hub.storage.read(stored_unscoped(edge_key(raw), message.location_id))
                if earlier is not None:
                    self._count(location, message, duplicate=True, conflict=earlier != message.payload)
                    return
                accepted = await self.hub.inbox.accept(message, ref=ref, business_date=day)
            except (RejectedInput, ValueError) as exc:  # never storable: logged, not retried
                log.error("edge message refused", location=location, subject=raw.subject, error=str(exc))
                return
            except Exception as exc:  # the database busy or away
                log.warning("edge message not stored yet", location=location, error=repr(exc))
                with contextlib.suppress(Exception):
                    await raw.in_progress()
                await asyncio.sleep(RETRY_SECONDS)
                continue
            conflict = accepted.conflict is not None
            self._count(location, message, duplicate=accepted.duplicate, conflict=conflict)
            return

    async def _record_transfer(self, location: str, raw: Msg) -> None:
        """Record one of the edge's transfers in the group's ledger once; retried in place."""
        while True:
            try:
                write = record_edge_transfer(self.hub.ledger, edge_key(raw), location, bytes(raw.data))
                new = await self.hub.storage.write(write)
            except msgspec.DecodeError as exc:  # never recordable: logged, not retried
                log.error("edge transfer refused", location=location, subject=raw.subject, error=str(exc))
                return
            except Exception as exc:  # the database busy or away
                log.warning("edge transfer not recorded yet", location=location, error=repr(exc))
                with contextlib.suppress(Exception):
                    await raw.in_progress()
                await asyncio.sleep(RETRY_SECONDS)
                continue
            self.transfers[location] += int(new)
            return

    def _count(self, location: str, message: IncomingMessage, *, duplicate: bool, conflict: bool) -> None:
        if conflict:
            self.conflicts[location] += 1
            log.error(
                "edge message conflicts with a stored one (its key names other content)",
                location=location,
                key=message.idempotency_key,
            )
        elif duplicate:
            self.duplicates[location] += 1
        else:
            self.stored[location] += 1
