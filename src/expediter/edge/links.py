"""The links of a restaurant edge to its group: up (the relay), down (the inbox consumer), and the
heartbeat that says how the link is.

Nothing here is on the kitchen's path: a POS order is stored and routed to the screens and
printers by the hub as always; the relay reads the inbox afterwards and hands each message to the
restaurant's own NATS server (on the same box, so it never waits on the internet). The
group's copy of that stream is NATS's business (see :mod:`.streams`).

Up, in order: the relay reads ``messages`` by id (on SQLite one writer at a time commits, so ids
become visible in order), publishes each with ``Nats-Msg-Id = <location>:<id>`` and the
``Expediter-Message-Id`` header, and records how far it got in ``edge_relay``. A crash between a
publish and that record republishes the same ids, which the stream's duplicate window drops.

Down, once: a durable pull consumer on the group's ``GROUP_DOWN`` stream (filtered to this
location) is fetched from across the leaf connection; each message is applied, stored in the
inbox under the key ``group:<stream sequence>`` (a redelivery is a duplicate there) and only
then acknowledged. An 86 (kind ``availability``) is applied to the kitchen; any other kind is
routed by the catalog's flows from the system ``group`` (online orders to the screens, say).
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
from nats.js.client import JetStreamContext

from expediter.catalog.schema import Edge
from expediter.connectors.base import IncomingMessage
from expediter.edge.names import (
    UP_STREAM,
    down_consumer,
    down_subject,
    heartbeat_subject,
    up_subject,
)
from expediter.edge.server import LeafServer
from expediter.edge.streams import ensure_group_streams, ensure_stream, restart_sourcing, up_stream_config
from expediter.engine.hub import Hub
from expediter.engine.storage.base import Tx
from expediter.model import clock

log = structlog.get_logger(__name__)

GROUP_SYSTEM = "group"
"""The source system of what comes down from the group (never relayed back up)."""
RELAY_BATCH = 200
RELAY_IDLE_SECONDS = 0.1
LINK_CHECK_SECONDS = 0.5
FETCH_SECONDS = 1.0
RETRY_SECONDS = 1.0


class LinkState(StrEnum):
    CONNECTED = "connected"
    OFFLINE = "offline"


class UpMessage(msgspec.Struct, kw_only=True):
    """One stored message as it goes up (``payload`` travels base64 in JSON)."""

    location: str
    message_id: int
    idempotency_key: str
    source_system: str
    kind: str
    ref: str | None
    location_id: str | None
    business_date: str | None
    received_at: str
    content_type: str
    payload: bytes


class Heartbeat(msgspec.Struct, kw_only=True):
    location: str
    at: datetime
    link: LinkState
    offline_since: datetime | None
    relayed: int
    """The last inbox message id handed to the up stream."""
    up_sequence: int
    """The up stream's last sequence: the group is caught up when its copy holds as many."""


class EdgeStatus(msgspec.Struct, kw_only=True):
    """What ``GET /api/v1/edge`` answers on the restaurant's hub."""

    location: str
    link: LinkState
    offline_since: datetime | None
    relayed: int
    up_sequence: int
    applied_from_group: int


_UNRELAYED = (
    "SELECT id, idempotency_key, source_system, kind, ref, location_id, business_date, received_at,"
    " content_type, payload FROM messages WHERE id > ? ORDER BY id LIMIT ?"
)


def subject_word(kind: str) -> str:
    """A kind as one subject token (``square.event`` → ``square_event``)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in kind) or "message"


class EdgeLinks:
    """The up and down links and the heartbeat of one restaurant edge."""

    def __init__(self, hub: Hub, edge: Edge, server: LeafServer) -> None:
        self.hub = hub
        self.edge = edge
        self.server = server
        self.link = LinkState.OFFLINE
        self.offline_since: datetime | None = clock.now()
        self.relayed = 0
        self.up_sequence = 0
        self.applied = 0
        self._nc: Client | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()

    # -- running -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._nc = await nats.connect(self.server.url, max_reconnect_attempts=-1, name="expediter-edge")
        await ensure_stream(self.local, up_stream_config(self.edge.location))
        self.relayed = await self._cursor()
        self.up_sequence = (await self.local.stream_info(UP_STREAM)).state.last_seq
        for work, name in (
            (self._relay_loop(), "edge relay"),
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

    def status(self) -> EdgeStatus:
        return EdgeStatus(
            location=self.edge.location,
            link=self.link,
            offline_since=self.offline_since,
            relayed=self.relayed,
            up_sequence=self.up_sequence,
            applied_from_group=self.applied,
        )

    def new_messages(self) -> None:
        """Wake the relay (the inbox calls this after a commit)."""
        self._wake.set()

    # -- up ------------------------------------------------------------------------------------

    async def _relay_loop(self) -> None:
        while True:
            try:
                if await self.relay_once() == RELAY_BATCH:
                    continue
            except Exception as exc:  # the local server restarting, say: the kitchen goes on
                log.warning("edge relay paused", error=str(exc))
                await asyncio.sleep(RETRY_SECONDS)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), RELAY_IDLE_SECONDS)

    async def relay_once(self) -> int:
        """Hand the messages stored since the last pass to the up stream, in order; how many."""
        after = self.relayed

        def unrelayed(tx: Tx) -> list[Any]:
            return tx.all(_UNRELAYED, (after, RELAY_BATCH))

        rows = await self.hub.storage.read(unrelayed)
        for row in rows:
            if row["source_system"] != GROUP_SYSTEM:
                await self._publish_up(row)
        if rows:
            await self._save_cursor(int(rows[-1]["id"]))
        return len(rows)

    async def _publish_up(self, row: Any) -> None:
        message = UpMessage(
            location=self.edge.location,
            message_id=int(row["id"]),
            idempotency_key=row["idempotency_key"],
            source_system=row["source_system"],
            kind=row["kind"],
            ref=row["ref"],
            location_id=row["location_id"],
            business_date=row["business_date"],
            received_at=row["received_at"],
            content_type=row["content_type"],
            payload=bytes(row["payload"]),
        )
        msg_id = f"{self.edge.location}:{message.message_id}"
        ack = await self.local.publish(
            up_subject(self.edge.location, subject_word(message.kind)),
            msgspec.json.encode(message),
            stream=UP_STREAM,
            headers={"Nats-Msg-Id": msg_id, "Expediter-Message-Id": str(message.message_id)},
        )
        self.up_sequence = max(self.up_sequence, ack.seq)

    async def _cursor(self) -> int:
        def query(tx: Tx) -> int:
            row = tx.one("SELECT message_id FROM edge_relay WHERE name = ?", (UP_STREAM,))
            return int(row["message_id"]) if row else 0

        return await self.hub.storage.read(query)

    async def _save_cursor(self, message_id: int) -> None:
        at = clock.now().isoformat()

        def save(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO edge_relay (name, message_id, relayed_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET message_id = excluded.message_id,"
                " relayed_at = excluded.relayed_at",
                (UP_STREAM, message_id, at),
            )

        await self.hub.storage.write(save)
        self.relayed = message_id

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
                    )
                messages = await subscription.fetch(50, timeout=FETCH_SECONDS)
            except nats.errors.TimeoutError:
                continue
            except Exception as exc:  # the link is down, or the group has no stream yet
                log.debug("edge downlink waiting", error=str(exc))
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
        kitchen = self.hub.services.get("kitchen")
        if kind == "availability" and kitchen is not None:
            change = msgspec.json.decode(message.data)
            await kitchen.set_availability(self.edge.location, str(change["key"]), bool(change["available"]))
        incoming = IncomingMessage(
            source_system=GROUP_SYSTEM,
            kind=kind,
            idempotency_key=key,
            payload=message.data,
            location_id=self.edge.location,
        )
        accepted = await self.hub.inbox.accept(incoming)
        if not accepted.duplicate:
            self.applied += 1

    # -- link state ----------------------------------------------------------------------------

    async def _link_loop(self) -> None:
        beat_every = self.edge.heartbeat_seconds
        last_beat = 0.0
        loop = asyncio.get_running_loop()
        while True:
            up = await self.server.link_up()
            if up and self.link is LinkState.OFFLINE:
                await self._link_returned()
                last_beat = 0.0
            elif not up and self.link is LinkState.CONNECTED:
                self.link, self.offline_since = LinkState.OFFLINE, clock.now()
                log.warning("edge link to the group lost", location=self.edge.location)
            if up and loop.time() - last_beat >= beat_every:
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

    async def _beat(self) -> None:
        assert self._nc is not None
        beat = Heartbeat(
            location=self.edge.location,
            at=clock.now(),
            link=self.link,
            offline_since=self.offline_since,
            relayed=self.relayed,
            up_sequence=self.up_sequence,
        )
        with contextlib.suppress(Exception):
            await self._nc.publish(heartbeat_subject(self.edge.location), msgspec.json.encode(beat))
