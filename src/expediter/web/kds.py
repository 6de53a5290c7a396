"""KDS screens and their API: ``/kds/{station}`` (the screen), a live feed over server-sent events,
and JSON calls to fetch, start, bump and recall tickets, fire courses and 86 items.

The screen shows the hub's time in the location's time zone, never the device's own (kitchen
tablets' clocks are often wrong): the page and every ``caught_up`` event carry the hub's clock, and
the script keeps the difference.

The live feed (``GET /kds/{station}/events``) never loses or repeats an event across reconnects: the
stream subscribes *before* it reads the log, replays every event numbered above the screen's
``Last-Event-ID`` (or ``?after=``) from the kitchen's store, then continues live, skipping anything
already sent. A screen with no position, or one whose position is gone from the log, first gets a
``snapshot`` of the open tickets. Every asset is served by the hub (kitchens lose the internet).

Screens and their API work only on paired devices (:mod:`expediter.web.guard`): a device sees
and acts on the tickets of its own location and stations; a screen that is not paired shows a
pairing code instead (:mod:`expediter.web.pairing`).

In a group (several processes on one database and one bus), one process runs the kitchen, and a
screen works against any of them: a process without the kitchen renders the page from the
catalog, reads tickets and the 86 list from the shared database, serves the live feed from the
bus, and forwards every action to the kitchen's process
(:mod:`expediter.engine.bus.kitchen_commands`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from expediter.engine.hub import Hub
from expediter.errors import RejectedInput
from expediter.model import clock
from expediter.operations.kitchen import EXPO, Kitchen, Subscription, Ticket
from expediter.operations.kitchen.tickets import TicketState
from expediter.web.bodies import UNREADABLE, unreadable
from expediter.web.pages import csrf_token
from expediter.web.people import note_for_audit
from expediter.web.roles import Caller, Role, needs, open_to
from expediter.web.visibility import Sees, everything, sees_for

WEB = Path(__file__).parent
STATION = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 1000
FEEDS_CLOSING = "kds_feeds_closing"
"""``hub.services.extra`` key: the hub's :class:`ClosingFeeds` (see :func:`begin_shutdown`)."""
_encode = msgspec.json.Encoder().encode
_Item = TypeVar("_Item")
_templates = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape())
_templates.globals["csrf_token"] = csrf_token


class KdsError(Exception):
    def __init__(self, status: int, error: str, fix: str = "") -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.fix = fix


Key = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
"""An order id, location id, PLU or item id as the kitchen API takes it."""


class FireRequest(msgspec.Struct, kw_only=True):
    order_id: Key
    course: Annotated[int, msgspec.Meta(ge=0, le=1000)]


class AvailabilityRequest(msgspec.Struct, kw_only=True):
    location_id: Key
    key: Key
    """PLU or item id."""
    available: bool


class Fired(msgspec.Struct, kw_only=True):
    """The answer to ``POST /api/v1/kds/fire``: the tickets the course changed."""

    order_id: str
    course: int
    tickets: list[Ticket]


class AvailabilitySet(msgspec.Struct, kw_only=True):
    """The answer to ``POST /api/v1/kds/availability``; ``changed`` is false when it already was."""

    location_id: str
    key: str
    available: bool
    changed: bool


class Unavailable(msgspec.Struct, kw_only=True):
    location_id: str
    key: str


class AvailabilityList(msgspec.Struct, kw_only=True):
    """The 86 list: every item off, per location."""

    unavailable: list[Unavailable]


class KdsErrorBody(msgspec.Struct, kw_only=True):
    """A refusal of the kitchen API (the same shape as the API's ``ErrorBody``, without ``where``)."""

    error: str
    fix: str = ""


class TicketList(msgspec.Struct, kw_only=True):
    station: str
    seq: int
    tickets: list[Ticket]
    all_day: dict[str, str]
    yellow_seconds: int
    red_seconds: int


def json_response(value: Any, status: int = 200) -> Response:
    return Response(_encode(value), status_code=status, media_type="application/json")


def sse(event: str, data: bytes, seq: int | None = None) -> bytes:
    """One server-sent event; ``id`` lets the browser resume with ``Last-Event-ID``."""
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {event}\n".encode() + b"data: " + data + b"\n\n"


def resume_position(request: Request) -> int | None:
    """Where the screen left off: ``Last-Event-ID`` (the browser's reconnect) wins over ``?after=``."""
    raw = request.headers.get("last-event-id") or request.query_params.get("after")
    if raw is None or raw == "":
        return None
    try:
        return max(int(raw), 0)
    except ValueError as exc:
        raise KdsError(400, f"bad event position {raw!r}", "send the id of the last event received") from exc


class KdsWeb:
    """The KDS endpoints over one kitchen (looked up per request, so it may be wired after routes)."""

    def __init__(
        self,
        kitchen: Callable[[], Kitchen | None],
        locations: Callable[[], list[str]],
        bus: Callable[[], Any] | None = None,
        shared: Callable[[], Kitchen | None] | None = None,
        closing: ClosingFeeds | None = None,
    ) -> None:
        self._kitchen = kitchen
        self._locations = locations
        self._bus = bus or (lambda: None)
        """The group's bus: a process whose kitchen runs elsewhere serves screens' feeds from it."""
        self._make_shared = shared or (lambda: None)
        """A new, unstarted kitchen from the catalog over the shared database (``None`` where the
        kitchen cannot run elsewhere): a process without the kitchen reads through it."""
        self._closing = closing or ClosingFeeds()
        """Closed as the server stops: ends the feeds served from the bus (the kitchen's own
        feeds end with :meth:`Kitchen.close_feeds`), so the server is not left waiting for them."""
        self._shared_copy: Kitchen | None = None

    def _shared(self) -> Kitchen | None:
        """The one read-only copy of the kitchen (made on first use, then kept: each read brings
        it up to date from the events written since, see :meth:`Kitchen.read_shared`)."""
        if self._shared_copy is None:
            self._shared_copy = self._make_shared()
        return self._shared_copy

    def kitchen(self) -> Kitchen:
        found = self._kitchen()
        if found is None:
            raise KdsError(503, "the kitchen service is not running", "enable the kds system in the catalog")
        return found

    def view(self) -> Kitchen:
        """The kitchen's stations and settings: the running kitchen's, else the catalog's."""
        found = self._kitchen() or self._shared()
        if found is None:
            return self.kitchen()
        return found

    async def reading(self) -> Kitchen:
        """The kitchen to read tickets and the 86 list from: the running one, else (a process of
        the group without it) the read-only copy, brought up to date from the shared database."""
        found = self._kitchen()
        if found is not None:
            return found
        shared = self._shared()
        if shared is None:
            return self.kitchen()
        await shared.read_shared()
        return shared

    def elsewhere(self) -> Any:
        """The bus, when the kitchen runs in another process of the group (else ``None``)."""
        bus = self._bus()
        if self._kitchen() is None and bus is not None and getattr(bus, "client", None) is not None:
            return bus
        return None

    async def send(self, request: Request, bus: Any, command: Any) -> Any:
        """``command`` sent to the kitchen's process, with the locations the caller may see; its
        answer, or the refusal raised (503 while no kitchen answers)."""
        from expediter.engine.bus.kitchen_commands import forward_command

        sees = sees_for(request)
        locations = None if sees is everything else [loc for loc in self._locations() if sees(loc)]
        answer = await forward_command(
            bus.client, bus.settings, msgspec.structs.replace(command, locations=locations)
        )
        if answer.status != 200:
            fix = "try again in a moment" if answer.status == 503 else ""
            raise KdsError(answer.status, answer.error, fix)
        return answer

    # -- pages ----------------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        page = _templates.get_template("kds_index.html").render(stations=(await self.reading()).stations())
        return HTMLResponse(page)

    @open_to(Caller.SCREEN)
    async def screen(self, request: Request) -> Response:
        station, sees = station_of(request), sees_for(request)
        kitchen = self.view()
        timing = kitchen.timing(station)
        zones = {
            location.id: location.timezone for location in kitchen.locations.values() if sees(location.id)
        }
        page = _templates.get_template("kds.html").render(
            station=station,
            expo=station == EXPO,
            yellow=timing.yellow_seconds,
            red=timing.red_seconds,
            locations=[location for location in self._locations() if sees(location)],
            server_time=clock.now_iso(),
            zone=header_zone(zones, request.query_params.get("location")),
            zones=zones,
        )
        return HTMLResponse(page)

    # -- live feed ------------------------------------------------------------------------------

    @open_to(Caller.DEVICE)
    async def events(self, request: Request) -> Response:
        station = station_of(request)
        after = resume_position(request)
        bus = self._bus()
        if self._kitchen() is None and bus is not None and bus.js is not None:
            return StreamingResponse(
                self._bus_stream(bus, station, after or 0, sees_for(request)),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )
        kitchen = self.kitchen()
        return StreamingResponse(
            self._stream(kitchen, station, after, sees_for(request)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _stream(
        self, kitchen: Kitchen, station: str, after: int | None, sees: Sees = everything
    ) -> AsyncIterator[bytes]:
        sub = kitchen.subscribe(station)  # before reading the log: nothing falls in between
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            sent = -1
            async for chunk, seq in self._catch_up(kitchen, station, after, sees):
                sent = max(sent, seq)
                if chunk:
                    yield chunk
            yield sse("caught_up", _encode({"seq": sent, "now": clock.now()}))
            async for chunk in self._live(sub, sent, sees):
                yield chunk
        finally:
            kitchen.unsubscribe(sub)

    async def _bus_stream(self, bus: Any, station: str, after: int, sees: Sees) -> AsyncIterator[bytes]:
        """The feed of a station whose kitchen runs in another process of the group: its events
        from the bus's kitchen stream, each once and in order (replayed from the start for a
        new screen, after ``Last-Event-ID`` for one that reconnects)."""
        from expediter.engine.bus.kitchen_feed import read_station

        yield f"retry: {RETRY_MS}\n\n".encode()
        with self._closing.watch() as closed:
            if closed.is_set():
                return
            locations = self._locations()
            events = read_station(bus.js, bus.settings, locations, station, after, idle=HEARTBEAT_SECONDS)
            async for event in _until_set(events, closed):
                if event is None:
                    yield b": ping\n\n"
                elif event.caught_up:
                    yield sse("caught_up", _encode({"seq": event.seq, "now": clock.now()}))
                elif sees(event.location_id):
                    yield sse("ticket", event.payload, event.seq)

    async def _catch_up(
        self, kitchen: Kitchen, station: str, after: int | None, sees: Sees = everything
    ) -> AsyncIterator[tuple[bytes, int]]:
        """The snapshot, or the events the screen missed, oldest first (another location's
        events move the position without being sent)."""
        if after is not None and await self._log_covers(kitchen, station, after):
            position = after
            while True:
                batch = await kitchen.events_after(station, position)
                for event in batch:
                    shown = sees(event.ticket.location_id)
                    yield (sse("ticket", _encode(event), event.seq) if shown else b""), event.seq
                    position = event.seq
                if len(batch) < 1000:
                    break
            yield b"", position
            return
        tickets, seq = kitchen.snapshot(station)
        tickets = [ticket for ticket in tickets if sees(ticket.location_id)]
        yield sse("snapshot", _encode({"seq": seq, "tickets": tickets}), seq), seq

    async def _log_covers(self, kitchen: Kitchen, station: str, after: int) -> bool:
        """False when the screen is ahead of the log (a new database) or behind what is kept."""
        last = await kitchen.last_seq(station)
        first = await kitchen.store.first_seq(station)
        return after <= last and (after >= first - 1 or first == 0)

    async def _live(self, sub: Subscription, sent: int, sees: Sees = everything) -> AsyncIterator[bytes]:
        while True:
            try:  # a busy kitchen has events waiting: no deadline to arm for those
                event = sub.queue.get_nowait()
            except asyncio.QueueEmpty:
                try:
                    async with asyncio.timeout(HEARTBEAT_SECONDS):
                        event = await sub.queue.get()
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
            if event is None:
                return
            if event.seq <= sent:
                continue  # already sent while catching up
            if event.seq != sent + 1:
                return  # a gap: end the stream, the screen reconnects from ``sent`` and catches up
            sent = event.seq
            if sees(event.ticket.location_id):
                yield sse("ticket", _encode(event), event.seq)

    # -- JSON API -------------------------------------------------------------------------------

    @open_to(Caller.DEVICE)
    async def list_tickets(self, request: Request) -> Response:
        station, sees = station_of(request), sees_for(request)
        kitchen = await self.reading()
        include_bumped = request.query_params.get("include_bumped") in ("1", "true")
        timing = kitchen.timing(station)
        _open, seq = kitchen.snapshot(station)
        body = TicketList(
            station=station,
            seq=seq,
            tickets=[
                t for t in kitchen.tickets_for(station, include_bumped=include_bumped) if sees(t.location_id)
            ],
            all_day={name: f"{qty.normalize():f}" for name, qty in kitchen.all_day(station).items()},
            yellow_seconds=timing.yellow_seconds,
            red_seconds=timing.red_seconds,
        )
        return json_response(body)

    @open_to(Caller.DEVICE)
    @needs(Role.OPERATOR)
    async def act(self, request: Request) -> Response:
        station = station_of(request)
        ticket_id = request.path_params["ticket_id"]
        bus = self._bus()
        if self._kitchen() is None and bus is not None and bus.client is not None:
            return await self._forward(request, bus, station, ticket_id)
        kitchen = self.kitchen()
        ticket = await kitchen.ticket(ticket_id)
        if ticket is None or ticket.station != station or not sees_for(request)(ticket.location_id):
            raise KdsError(404, f"no ticket {ticket_id!r} at station {station!r}")
        note_for_audit(request, f"ticket #{ticket.order_number} ({ticket_id})", ticket.location_id)
        action = {
            "bump": kitchen.bump,
            "recall": kitchen.recall,
            "start": kitchen.start_ticket,
        }[request.url.path.rsplit("/", 1)[-1]]
        return json_response(await action(station, ticket_id))

    async def _forward(self, request: Request, bus: Any, station: str, ticket_id: str) -> Response:
        """The action of a screen whose kitchen runs in another process of the group, sent there."""
        from expediter.engine.bus.kitchen_commands import KitchenCommand, forward_command

        sees = sees_for(request)
        locations = None if sees is everything else [loc for loc in self._locations() if sees(loc)]
        action = request.url.path.rsplit("/", 1)[-1]
        command = KitchenCommand(action=action, station=station, ticket_id=ticket_id, locations=locations)  # type: ignore[arg-type]
        answer = await forward_command(bus.client, bus.settings, command)
        if answer.status != 200 or answer.ticket is None:
            raise KdsError(answer.status, answer.error)
        note_for_audit(request, f"ticket #{answer.order_number} ({ticket_id})", answer.location_id)
        return json_response(answer.ticket)

    @open_to(Caller.DEVICE)
    @needs(Role.OPERATOR)
    async def recall_last(self, request: Request) -> Response:
        """The bump bar's ``r``: the station's most recently bumped ticket of this location."""
        station, sees = station_of(request), sees_for(request)
        bus = self.elsewhere()
        if bus is not None:
            from expediter.engine.bus.kitchen_commands import KitchenCommand

            answer = await self.send(request, bus, KitchenCommand(action="recall_last", station=station))
            note_for_audit(request, f"ticket #{answer.order_number}", answer.location_id)
            return json_response(answer.ticket)
        kitchen = self.kitchen()
        if sees is everything:
            return json_response(await kitchen.recall_last(station))
        bumped = [
            t
            for t in kitchen.tickets_for(station, include_bumped=True)
            if t.state is TicketState.BUMPED and sees(t.location_id)
        ]
        if not bumped:
            raise KdsError(409, f"nothing bumped at {station!r} to recall")
        last = max(bumped, key=lambda t: t.bumped_at or t.updated_at)
        note_for_audit(request, f"ticket #{last.order_number} ({last.id})", last.location_id)
        return json_response(await kitchen.recall(station, last.id))

    @open_to(Caller.DEVICE)
    @needs(Role.OPERATOR)
    async def fire(self, request: Request) -> Response:
        body = decode_body(await request.body(), FireRequest)
        bus = self.elsewhere()
        if bus is not None:
            from expediter.engine.bus.kitchen_commands import KitchenCommand

            note_for_audit(request, f"order {body.order_id} course {body.course}")
            command = KitchenCommand(action="fire", order_id=body.order_id, course=body.course)
            answer = await self.send(request, bus, command)
            tickets = msgspec.convert(answer.tickets or [], list[Ticket])
            return json_response(Fired(order_id=body.order_id, course=body.course, tickets=tickets))
        kitchen = self.kitchen()
        at_expo = [t for t in kitchen.tickets_for(EXPO, include_bumped=True) if t.order_id == body.order_id]
        known = await kitchen.knows_order(body.order_id) and all(
            sees_for(request)(t.location_id) for t in at_expo
        )
        if not known:
            raise KdsError(404, f"unknown order {body.order_id!r}", "send the order to the kitchen first")
        note_for_audit(request, f"order {body.order_id} course {body.course}")
        changed = await kitchen.fire_course(body.order_id, body.course)
        return json_response(Fired(order_id=body.order_id, course=body.course, tickets=changed))

    @open_to(Caller.DEVICE)
    @needs(Role.OPERATOR)
    async def set_availability(self, request: Request) -> Response:
        body = decode_body(await request.body(), AvailabilityRequest)
        if not sees_for(request)(body.location_id):
            raise KdsError(403, f"this screen is not paired for location {body.location_id!r}")
        state = "available again" if body.available else "86"
        note_for_audit(request, f"{body.key}: {state}", body.location_id)
        bus = self.elsewhere()
        if bus is not None:
            from expediter.engine.bus.kitchen_commands import KitchenCommand

            command = KitchenCommand(
                action="86", location_id=body.location_id, key=body.key, available=body.available
            )
            changed = (await self.send(request, bus, command)).changed
        else:
            changed = await self.kitchen().set_availability(body.location_id, body.key, body.available)
        answer = AvailabilitySet(
            location_id=body.location_id, key=body.key, available=body.available, changed=changed
        )
        return json_response(answer)

    @open_to(Caller.DEVICE)
    async def availability(self, request: Request) -> Response:
        location, sees = request.query_params.get("location_id"), sees_for(request)
        off = [(loc, key) for loc, key in (await self.reading()).unavailable(location) if sees(loc)]
        return json_response(
            AvailabilityList(unavailable=[Unavailable(location_id=loc, key=key) for loc, key in off])
        )

    @open_to(Caller.ANYONE)
    async def asset(self, request: Request) -> Response:
        name = request.url.path.rsplit("/", 1)[-1]
        media = {"kds.js": "text/javascript", "kds.css": "text/css"}[name]
        return FileResponse(WEB / "static" / name, media_type=media)


def header_zone(zones: dict[str, str], location: str | None) -> str:
    """The time zone of the screen's clock: the location asked for (``?location=``), else the
    first; ``""`` (the device's own) when the hub knows no location."""
    if location in zones:
        return zones[location]
    return next(iter(zones.values()), "")


def station_of(request: Request) -> str:
    station = str(request.path_params["station"])
    if not STATION.match(station):
        raise KdsError(404, f"no station {station!r}", "station names are letters, digits, - and _")
    return station


def decode_body(body: bytes, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise KdsError(422, f"bad request body: {exc}") from exc
    except UNREADABLE as exc:
        raise KdsError(400, f"bad request body: {unreadable(exc)[0]}") from None


def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Turn the kitchen's refusals into JSON errors: ``{"error": ..., "fix": ...}``. The handler's
    marks (who calls it, the role it needs) stay on the endpoint."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:

        try:
            response: Response = await handler(request)
            return response
        except KdsError as exc:
            return json_response(KdsErrorBody(error=exc.error, fix=exc.fix), exc.status)
        except RejectedInput as exc:
            return json_response(KdsErrorBody(error=exc.message, fix=exc.fix), 409)

    return endpoint


def kds_routes(kds: KdsWeb) -> list[BaseRoute]:
    """The KDS routes over ``kds`` (tests build a Starlette app from these directly)."""
    actions = [
        Route(
            f"/api/v1/kds/{{station}}/tickets/{{ticket_id}}/{action}",
            guarded(kds.act),
            methods=["POST"],
            name=action,
        )
        for action in ("bump", "recall", "start")
    ]
    return [
        Route("/static/kds.js", guarded(kds.asset), methods=["GET"]),
        Route("/static/kds.css", guarded(kds.asset), methods=["GET"]),
        Route("/kds", guarded(kds.index), methods=["GET"]),
        Route("/kds/{station}", guarded(kds.screen), methods=["GET"]),
        Route("/kds/{station}/events", guarded(kds.events), methods=["GET"]),
        Route("/api/v1/kds/fire", guarded(kds.fire), methods=["POST"], name="fire"),
        Route("/api/v1/kds/availability", guarded(kds.set_availability), methods=["POST"], name="86"),
        Route("/api/v1/kds/availability", guarded(kds.availability), methods=["GET"]),
        Route("/api/v1/kds/{station}/tickets", guarded(kds.list_tickets), methods=["GET"]),
        Route("/api/v1/kds/{station}/recall", guarded(kds.recall_last), methods=["POST"], name="recall"),
        *actions,
    ]


def kitchen_routes(kitchen: Kitchen, locations: list[str] | None = None) -> list[BaseRoute]:
    """Routes over a kitchen object directly (tests, the benchmark)."""
    return kds_routes(KdsWeb(lambda: kitchen, lambda: list(locations or [])))


async def _until_set(source: AsyncIterator[_Item], stop: asyncio.Event) -> AsyncIterator[_Item]:
    """``source``'s items until ``stop`` is set, even while ``source`` waits for its next one (a
    feed from the bus waits on the servers: seconds while one of them is down)."""
    stopping = asyncio.ensure_future(stop.wait())
    step: asyncio.Future[_Item] | None = None
    try:
        while True:
            step = asyncio.ensure_future(anext(source))
            await asyncio.wait({step, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not step.done():
                return
            try:
                item = step.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        for pending in (step, stopping):
            if pending is not None and not pending.done():
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


class ClosingFeeds:
    """Ends the live feeds a process serves from the bus once :meth:`close` is called (the server
    begins to stop), and every one that starts after."""

    def __init__(self) -> None:
        self.closed = False
        self._watching: set[asyncio.Event] = set()

    def close(self) -> None:
        self.closed = True
        for event in self._watching:
            event.set()

    @contextlib.contextmanager
    def watch(self) -> Iterator[asyncio.Event]:
        """An event of the running loop, set once the feeds are closed (at once if they are)."""
        event = asyncio.Event()
        if self.closed:
            event.set()
        self._watching.add(event)
        try:
            yield event
        finally:
            self._watching.discard(event)


def feeds_closing(hub: Hub) -> ClosingFeeds:
    """The hub's :class:`ClosingFeeds` (one per hub: its routes and its shutdown share it)."""
    feeds: ClosingFeeds = hub.services.extra.setdefault(FEEDS_CLOSING, ClosingFeeds())
    return feeds


def begin_shutdown(hub: Hub) -> None:
    """Called by the server as it starts to stop: end every screen's live feed (screens retry),
    the kitchen's and those this process serves from the bus for a kitchen that runs elsewhere
    (or ran elsewhere when the screen connected): a screen's browser never hangs up by itself."""
    feeds_closing(hub).close()
    kitchen = hub.services.kitchen
    if isinstance(kitchen, Kitchen):
        kitchen.close_feeds()


def routes(hub: Hub) -> list[BaseRoute]:
    """Collected by ``expediter.web.app.create_app``: the kitchen is ``hub.services.kitchen``."""
    return kds_routes(
        KdsWeb(
            lambda: hub.services.kitchen,
            lambda: [loc.id for loc in hub.catalog.locations],
            lambda: getattr(hub, "bus", None),
            functools.partial(shared_kitchen, hub),
            feeds_closing(hub),
        )
    )


def shared_kitchen(hub: Hub) -> Kitchen | None:
    """For a process of a group whose kitchen runs in another: a kitchen from the catalog over the
    shared database, never started (it only reads); ``None`` without a bus or a kds system."""
    from expediter.operations.kitchen import KitchenStore
    from expediter.plugin.base import Capability

    if getattr(hub, "bus", None) is None or not hub.systems_offering(Capability.KITCHEN_SCREENS):
        return None
    return Kitchen.from_catalog(hub.catalog, KitchenStore(hub.storage))
