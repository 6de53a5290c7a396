"""The links of a restaurant edge to its group: up (the relay), down (the inbox consumer), and the
heartbeat that says how the link is.

Nothing here is on the kitchen's path: a POS order is stored and routed to the screens and
printers by the hub as always; the relay publishes it afterwards to the restaurant's own NATS
server (on the same box, so it never waits on the internet). The group's copy of that stream is
NATS's business (see :mod:`.streams`).

Up, in order: the hub's bus (:mod:`expediter.engine.bus`) runs against the restaurant's own
server: accepting a message records its publication in the ``outbox`` in the same transaction,
and the bus relay publishes the rows in order with ``Nats-Msg-Id`` (the message's idempotency
key) to the ``MESSAGES`` stream there, under ``expediter.edge.<location>.<kind>.<location>`` (a
subject tree of its own, so no stream of the group's captures it across the leaf connection).

Down, once: a durable pull consumer on the group's ``GROUP_DOWN`` stream (filtered to this
location) is fetched from across the leaf connection; each message is applied, stored in the
inbox under the key ``group:<stream sequence>`` (a redelivery is a duplicate there) and only
then acknowledged. An 86 (kind ``availability``) is applied to the kitchen; a menu change (kind
``menu_items``, one :class:`~expediter.model.menu.MenuItem`) is stored as the restaurant's menu
(ref the item id, as an import stores it) and the kitchen routes by it from the next order on
(:mod:`expediter.engine.menu`); any other kind is routed by the catalog's flows from the system
``group`` (online orders to the screens, say).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec
import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig
from nats.js.client import JetStreamContext

from expediter.catalog.schema import Edge
from expediter.edge.names import down_consumer, down_subject, group_stream, heartbeat_subject
from expediter.edge.server import LeafServer
from expediter.edge.streams import ensure_group_streams, restart_sourcing, up_streams
from expediter.engine.bus.outbox import pending_count
from expediter.engine.bus.service import BusService
from expediter.engine.hub import Hub
from expediter.engine.menu import MENU_KIND, menu_changed
from expediter.model import clock
from expediter.model.menu import MenuItem
from expediter.plugin.base import IncomingMessage

log = structlog.get_logger(__name__)

GROUP_SYSTEM = "group"
"""The source system of what comes down from the group (it goes back up like any message: the
group sees what each restaurant applied)."""
LINK_CHECK_SECONDS = 0.5
FETCH_SECONDS = 1.0
RETRY_SECONDS = 1.0
NUDGE_SECONDS = 2.0
"""How often a connected edge looks whether the group's copy of its streams is stuck."""
DOWN_ACK_WAIT_SECONDS = 5.0
"""How soon the group sends a downlink message again that the edge did not acknowledge. A
message handed to a pull request just as the link dropped is lost in transit: with the default
(30 s) the restaurant waited that long after the link came back (measured); applying is
idempotent, so an early resend costs nothing."""


class LinkState(StrEnum):
    CONNECTED = "connected"
    OFFLINE = "offline"


class Heartbeat(msgspec.Struct, kw_only=True):
    location: str
    at: datetime
    link: LinkState
    offline_since: datetime | None
    pending: int
    """Publications the outbox still owes the restaurant's own server."""
    up_sequence: int
    """How many messages the restaurant's up streams hold: the group is caught up when its copy
    holds as many."""


class EdgeStatus(msgspec.Struct, kw_only=True):
    """What ``GET /api/v1/edge`` answers on the restaurant's hub."""

    location: str
    link: LinkState
    offline_since: datetime | None
    pending: int
    up_sequence: int
    applied_from_group: int


class EdgeLinks:
    """The up and down links and the heartbeat of one restaurant edge."""

    def __init__(self, hub: Hub, edge: Edge, server: LeafServer, bus: BusService) -> None:
        self.hub = hub
        self.edge = edge
        self.server = server
        self.bus = bus
        self.link = LinkState.OFFLINE
        self.offline_since: datetime | None = clock.now()
        self.pending = 0
        self.up_sequence = 0
        self.applied = 0
        self._nc: Client | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._group_held = -1
        """The group copy's last sequence at the last look (``-1``: not looked yet)."""

    # -- running -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._nc = await nats.connect(self.server.url, max_reconnect_attempts=-1, name="expediter-edge")
        await self._count_up()
        for work, name in (
            (self._down_loop(), "edge downlink"),
            (self._link_loop(), "edge link watch"),
        ):
            self._tasks.append(asyncio.create_task(work, name=name))

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

    @property
    def local(self) -> JetStreamContext:
        assert self._nc is not None
        return self._nc.jetstream()

    @property
    def group(self) -> JetStreamContext:
        """The group's JetStream, reached across the leaf connection by its domain."""
        assert self._nc is not None
        return self._nc.jetstream(domain=self.edge.group_domain)

    async def status(self) -> EdgeStatus:
        """The link now (the counts read afresh, the outbox before the streams: nothing recorded
        before the answer is missing from both)."""
        with contextlib.suppress(Exception):  # the local server busy: the last counts
            await self._count_up()
        return EdgeStatus(
            location=self.edge.location,
            link=self.link,
            offline_since=self.offline_since,
            pending=self.pending,
            up_sequence=self.up_sequence,
            applied_from_group=self.applied,
        )

    async def _count_up(self) -> None:
        """How much the restaurant holds for the group, and how much its outbox still owes."""
        pending = await self.hub.storage.read(pending_count)
        held = 0
        for name in up_streams(self.bus.settings):
            held += int((await self.local.stream_info(name)).state.last_seq)
        self.pending, self.up_sequence = pending, held

    # -- down ----------------------------------------------------------------------------------

    async def _down_loop(self) -> None:
        subscription: Any = None
        while True:
            try:
                if subscription is None:
                    subscription = await self.group.pull_subscribe(
                        down_subject(self.edge.location),
                        durable=down_consumer(self.edge.location),
                        stream="GROUP_DOWN",
                        config=ConsumerConfig(ack_wait=DOWN_ACK_WAIT_SECONDS),
                    )
                messages = await subscription.fetch(50, timeout=FETCH_SECONDS)
            except nats.errors.TimeoutError:
                continue
            except Exception as exc:  # the link is down, or the group has no stream yet
                log.debug("edge downlink waiting", error=repr(exc))
                subscription = None
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for message in messages:
                await self.apply(message)
                await message.ack()

    async def apply(self, message: Msg) -> None:
        """Apply one message from the group once (a redelivery finds its key in the inbox)."""
        kind = message.subject.rsplit(".", 1)[-1]
        key = f"{GROUP_SYSTEM}:down:{message.metadata.sequence.stream}"
        kitchen = self.hub.services.kitchen
        if kind == "availability" and kitchen is not None:
            change = msgspec.json.decode(message.data)
            await kitchen.set_availability(self.edge.location, str(change["key"]), bool(change["available"]))
        item: MenuItem | None = None
        if kind == MENU_KIND:
            try:
                item = msgspec.json.decode(message.data, type=MenuItem)
            except msgspec.DecodeError as exc:  # never applicable: said, and not stored
                log.error("menu change from the group refused", key=key, error=str(exc))
                return
        incoming = IncomingMessage(
            source_system=GROUP_SYSTEM,
            kind=kind,
            idempotency_key=key,
            payload=message.data,
            location_id=self.edge.location,
        )
        accepted = await self.hub.inbox.accept(incoming, ref=item.id if item is not None else None)
        if item is not None:  # stored first: a restart reads the menu from the inbox
            menu_changed(self.hub, self.edge.location, [item])
        if not accepted.duplicate:
            self.applied += 1

    # -- link state ----------------------------------------------------------------------------

    async def _link_loop(self) -> None:
        beat_every = self.edge.heartbeat_seconds
        last_beat = last_nudge = 0.0
        loop = asyncio.get_running_loop()
        while True:
            up = await self.server.link_up()
            if up and self.link is LinkState.OFFLINE:
                await self._link_returned()
                last_beat = 0.0
            elif not up and self.link is LinkState.CONNECTED:
                self.link, self.offline_since = LinkState.OFFLINE, clock.now()
                log.warning("edge link to the group lost", location=self.edge.location)
            if up and loop.time() - last_nudge >= NUDGE_SECONDS:
                last_nudge = loop.time()
                try:
                    await self._unstick_sourcing()
                except Exception as exc:  # the group's JetStream busy: the next check
                    log.info("edge could not look at the group's copy", error=repr(exc))
            if up and loop.time() - last_beat >= beat_every:
                with contextlib.suppress(Exception):  # the local server busy: the next beat
                    await self._count_up()
                await self._beat()
                last_beat = loop.time()
            await asyncio.sleep(LINK_CHECK_SECONDS)

    async def _link_returned(self) -> None:
        """The leaf connection is back: the group's streams exist and its copy resumes now."""
        try:
            await ensure_group_streams(self.group, self.edge.location)
            await restart_sourcing(self.group, self.edge.location)
        except Exception as exc:  # the group's JetStream not reachable yet: next check
            log.info("edge link back, the group's JetStream not yet", error=str(exc))
            return
        log.info("edge link to the group back", location=self.edge.location, since=str(self.offline_since))
        self.link, self.offline_since = LinkState.CONNECTED, None

    async def _unstick_sourcing(self) -> None:
        """Restart the group's sourcing when its copy is behind and did not move since the last
        look: right after the link returns, the group's first retry may come before the domain's
        API is reachable across the leaf connection, and its next only after a back-off."""
        held = int((await self.group.stream_info(group_stream(self.edge.location))).state.last_seq)
        await self._count_up()
        if held < self.up_sequence and held == self._group_held:
            log.info("edge restarts the group's sourcing", held=held, up=self.up_sequence)
            await restart_sourcing(self.group, self.edge.location)
        self._group_held = held

    async def _beat(self) -> None:
        assert self._nc is not None
        beat = Heartbeat(
            location=self.edge.location,
            at=clock.now(),
            link=self.link,
            offline_since=self.offline_since,
            pending=self.pending,
            up_sequence=self.up_sequence,
        )
        with contextlib.suppress(Exception):
            await self._nc.publish(heartbeat_subject(self.edge.location), msgspec.json.encode(beat))
