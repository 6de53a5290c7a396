"""A screen's bump, recall and start, and the kitchen API's 86, fire and recall-last, sent to
whichever process of the group the kitchen runs in.

The kitchen runs in one process (the one that delivers); a screen may be connected to any. A
process without the kitchen forwards the action as a NATS request on ``<prefix>.kitchen-command``
(a plain subject, in no stream: an action is answered now or refused, never queued for later),
and the kitchen's process applies it and answers with the ticket or the refusal. When no
kitchen answers within :data:`COMMAND_TIMEOUT`, the screen is told to try again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec
import structlog

from expediter.engine.bus.settings import BusSettings
from expediter.errors import ExpediterError, RejectedInput

if TYPE_CHECKING:
    from expediter.operations.kitchen import Kitchen

log = structlog.get_logger(__name__)

COMMAND_TIMEOUT = 5.0
Action = Literal["bump", "recall", "start", "recall_last", "fire", "86"]


class KitchenCommand(msgspec.Struct, frozen=True, kw_only=True):
    action: Action
    station: str = ""
    ticket_id: str = ""
    locations: list[str] | None = None
    """The locations the person at the screen may see (``None``: every location)."""
    order_id: str = ""
    """``fire``: the order and its ``course``."""
    course: int = 0
    location_id: str = ""
    """``86``: the location, the item's ``key`` (PLU or item id) and whether it is ``available``."""
    key: str = ""
    available: bool = True


class KitchenAnswer(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    ticket: Any = None
    """The ticket, as the kitchen's own API returns it."""
    order_number: str | None = None
    location_id: str | None = None
    error: str = ""
    tickets: list[Any] | None = None
    """``fire``: the tickets the course changed."""
    changed: bool = False
    """``86``: false when the item already was so."""


def command_subject(settings: BusSettings) -> str:
    return f"{settings.subject_prefix}.kitchen-command"


_encode = msgspec.json.Encoder().encode
_command = msgspec.json.Decoder(KitchenCommand)
_answer = msgspec.json.Decoder(KitchenAnswer)


async def apply_command(kitchen: Kitchen, command: KitchenCommand) -> KitchenAnswer:
    """What the kitchen's process does with a forwarded action."""
    try:
        if command.action == "fire":
            return await _fire(kitchen, command)
        if command.action == "86":
            changed = await kitchen.set_availability(command.location_id, command.key, command.available)
            return KitchenAnswer(status=200, location_id=command.location_id, changed=changed)
        if command.action == "recall_last":
            return await _recall_last(kitchen, command)
    except RejectedInput as exc:
        return KitchenAnswer(status=409, error=exc.message)
    except ExpediterError as exc:
        return KitchenAnswer(status=503, error=str(exc))
    ticket = await kitchen.ticket(command.ticket_id)
    visible = ticket is not None and (command.locations is None or ticket.location_id in command.locations)
    if ticket is None or ticket.station != command.station or not visible:
        return KitchenAnswer(
            status=404, error=f"no ticket {command.ticket_id!r} at station {command.station!r}"
        )
    action = {"bump": kitchen.bump, "recall": kitchen.recall, "start": kitchen.start_ticket}[command.action]
    try:
        updated = await action(command.station, command.ticket_id)
    except RejectedInput as exc:
        return KitchenAnswer(status=409, error=exc.message)
    except ExpediterError as exc:
        return KitchenAnswer(status=503, error=str(exc))
    return KitchenAnswer(
        status=200,
        ticket=updated,
        order_number=str(updated.order_number),
        location_id=updated.location_id,
    )


def _visible(command: KitchenCommand, location_id: str) -> bool:
    return command.locations is None or location_id in command.locations


async def _fire(kitchen: Kitchen, command: KitchenCommand) -> KitchenAnswer:
    from expediter.operations.kitchen import EXPO

    at_expo = [t for t in kitchen.tickets_for(EXPO, include_bumped=True) if t.order_id == command.order_id]
    known = await kitchen.knows_order(command.order_id) and all(
        _visible(command, t.location_id) for t in at_expo
    )
    if not known:
        return KitchenAnswer(status=404, error=f"unknown order {command.order_id!r}")
    changed = await kitchen.fire_course(command.order_id, command.course)
    return KitchenAnswer(status=200, tickets=list(changed))


async def _recall_last(kitchen: Kitchen, command: KitchenCommand) -> KitchenAnswer:
    from expediter.operations.kitchen.tickets import TicketState

    if command.locations is None:
        recalled = await kitchen.recall_last(command.station)
    else:
        bumped = [
            t
            for t in kitchen.tickets_for(command.station, include_bumped=True)
            if t.state is TicketState.BUMPED and _visible(command, t.location_id)
        ]
        if not bumped:
            return KitchenAnswer(status=409, error=f"nothing bumped at {command.station!r} to recall")
        last = max(bumped, key=lambda t: t.bumped_at or t.updated_at)
        recalled = await kitchen.recall(command.station, last.id)
    return KitchenAnswer(
        status=200, ticket=recalled, order_number=str(recalled.order_number), location_id=recalled.location_id
    )


async def serve_commands(client: Any, settings: BusSettings, kitchen: Kitchen) -> Any:
    """Answer forwarded actions for ``kitchen`` (in its process); the subscription."""

    async def handle(message: Any) -> None:
        try:
            answer = await apply_command(kitchen, _command.decode(message.data))
        except msgspec.ValidationError as exc:
            answer = KitchenAnswer(status=400, error=f"a kitchen command that does not read: {exc}")
        await message.respond(_encode(answer))

    return await client.subscribe(command_subject(settings), cb=handle)


async def forward_command(client: Any, settings: BusSettings, command: KitchenCommand) -> KitchenAnswer:
    """Send ``command`` to the kitchen's process; its answer (503 when none answers)."""
    from nats.errors import NoRespondersError, TimeoutError

    try:
        reply = await client.request(command_subject(settings), _encode(command), timeout=COMMAND_TIMEOUT)
    except (NoRespondersError, TimeoutError):
        return KitchenAnswer(status=503, error="the kitchen is not answering (its process is starting again)")
    return _answer.decode(reply.data)
