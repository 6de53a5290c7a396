"""A screen's bump, recall and start sent to whichever process of the group the kitchen runs in.

The kitchen runs in one process (the one that delivers); a screen may be connected to any. A
process without the kitchen forwards the action as a NATS request on ``<prefix>.kitchen-command``
(a plain subject, in no stream: an action is answered now or refused, never queued for later),
and the kitchen's process applies it and answers with the ticket or the refusal. When no
kitchen answers within :data:`COMMAND_TIMEOUT`, the screen is told to try again.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import structlog

from expediter.engine.bus.settings import BusSettings
from expediter.errors import ExpediterError, RejectedInput

log = structlog.get_logger(__name__)

COMMAND_TIMEOUT = 5.0
Action = Literal["bump", "recall", "start"]


class KitchenCommand(msgspec.Struct, frozen=True, kw_only=True):
    action: Action
    station: str
    ticket_id: str
    locations: list[str] | None = None
    """The locations the person at the screen may see (``None``: every location)."""


class KitchenAnswer(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    ticket: Any = None
    """The ticket, as the kitchen's own API returns it."""
    order_number: str | None = None
    location_id: str | None = None
    error: str = ""


def command_subject(settings: BusSettings) -> str:
    return f"{settings.subject_prefix}.kitchen-command"


_encode = msgspec.json.Encoder().encode
_command = msgspec.json.Decoder(KitchenCommand)
_answer = msgspec.json.Decoder(KitchenAnswer)


async def apply_command(kitchen: Any, command: KitchenCommand) -> KitchenAnswer:
    """What the kitchen's process does with a forwarded action."""
    ticket = kitchen.ticket(command.ticket_id)
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


async def serve_commands(client: Any, settings: BusSettings, kitchen: Any) -> Any:
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
