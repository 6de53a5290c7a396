"""The group's view of its restaurant edges: online, offline since a time, or catching up.

The group hub (``[group_edges]`` in its catalog) listens to the edges' heartbeats on the group's
NATS server and compares what each restaurant has relayed with what the group's copy of its
stream holds. Heartbeats cross the leaf connection only while it is up, so the time of the last
one is when the restaurant went offline, as far as the group can know.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec
import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from expediter.catalog.schema import Catalog, GroupEdges
from expediter.edge.links import Heartbeat
from expediter.edge.names import group_stream, heartbeat_subject
from expediter.edge.streams import ensure_group_streams
from expediter.model import clock

log = structlog.get_logger(__name__)


class EdgeState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    CATCHING_UP = "catching up"
    NEVER_SEEN = "never seen"


class EdgeView(msgspec.Struct, kw_only=True):
    """One restaurant as ``GET /api/v1/edges`` shows it."""

    location: str
    state: EdgeState
    text: str
    """``online``, ``offline since 2026-12-03 14:02 UTC``, ``catching up (12 behind)``."""
    last_heard: datetime | None
    offline_since: datetime | None
    behind: int
    """How many of the restaurant's messages the group's copy does not hold yet (as last told)."""
    received: int
    """How many the group's copy holds."""


class EdgeList(msgspec.Struct, kw_only=True):
    edges: list[EdgeView]


class Heard(msgspec.Struct, kw_only=True):
    """What the group knows of one edge: its last heartbeat and when it came."""

    beat: Heartbeat
    at: datetime


def view_of(
    location: str, heard: Heard | None, received: int, now: datetime, offline_after: float
) -> EdgeView:
    """The closed vocabulary of an edge's state, from its last heartbeat and the group's copy."""
    if heard is None:
        return EdgeView(
            location=location,
            state=EdgeState.NEVER_SEEN,
            text="never seen",
            last_heard=None,
            offline_since=None,
            behind=0,
            received=received,
        )
    behind = max(0, heard.beat.up_sequence - received)
    since: datetime | None = None
    if now - heard.at > timedelta(seconds=offline_after):
        state, since = EdgeState.OFFLINE, heard.at
        text = f"offline since {heard.at:%Y-%m-%d %H:%M:%S %Z}".rstrip()
    elif behind:
        state, text = EdgeState.CATCHING_UP, f"catching up ({behind} behind)"
    else:
        state, text = EdgeState.ONLINE, "online"
    return EdgeView(
        location=location,
        state=state,
        text=text,
        last_heard=heard.at,
        offline_since=since,
        behind=behind,
        received=received,
    )


class EdgeBoard:
    """Heartbeats of every edge and the group's copies of their streams."""

    def __init__(self, config: GroupEdges, locations: list[str]) -> None:
        self.config = config
        self.locations = locations
        self.heard: dict[str, Heard] = {}
        self._nc: Client | None = None

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> EdgeBoard | None:
        if catalog.group_edges is None:
            return None
        locations = catalog.group_edges.locations or [location.id for location in catalog.locations]
        return cls(catalog.group_edges, locations)

    async def start(self) -> None:
        self._nc = await nats.connect(self.config.nats_url, max_reconnect_attempts=-1, name="expediter-group")
        js = self._nc.jetstream(domain=self.config.domain)
        for location in self.locations:
            await ensure_group_streams(js, location)
            await self._nc.subscribe(heartbeat_subject(location), cb=self._heard)

    async def stop(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None

    async def _heard(self, message: Msg) -> None:
        try:
            beat = msgspec.json.decode(message.data, type=Heartbeat)
        except msgspec.DecodeError:
            log.warning("an edge heartbeat that does not decode", subject=message.subject)
            return
        self.heard[beat.location] = Heard(beat=beat, at=clock.now())

    async def received(self, location: str) -> int:
        assert self._nc is not None
        js = self._nc.jetstream(domain=self.config.domain)
        try:
            return int((await js.stream_info(group_stream(location))).state.last_seq)
        except NotFoundError:
            return 0

    async def views(self, now: datetime | None = None) -> EdgeList:
        now = now or clock.now()
        limit = self.config.offline_after_seconds
        edges = [
            view_of(location, self.heard.get(location), await self.received(location), now, limit)
            for location in self.locations
        ]
        return EdgeList(edges=edges)
