"""Tickets: one per (order, station), with a stable id, a small state machine, diffs and timers.

Why a stable id (derived from the order id and the station): a retried or redelivered order lands on
the ticket it already made, so a screen never shows it twice and a printer's reprint is recognisable.

Why diffs: a cook who already fired a burger must not get the whole order again when a drink is
added. A newer order ``version`` adds the new items to the *same* ticket (marked as added) and
strikes the voided ones through (still bumpable); an older or equal version changes nothing.

States (:class:`TicketState`)::

    new ──start──► in_progress ──bump──► bumped ──recall──► in_progress
      └───────────────bump──────────────────┘
    expo only:  (all station tickets bumped) ──► ready ──bump──► bumped
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import msgspec

from expediter.errors import RejectedInput
from expediter.model.kitchen import (
    EXPO,
    StationTiming,
    TicketItem,
    guest_label,
    merge_items,
    order_number,
    struck_through,
    ticket_id_for,
)
from expediter.model.order import Order
from expediter.model.time import AwareDatetime

__all__ = ["guest_label", "merge_items", "order_number", "struck_through", "ticket_id_for"]


class TicketState(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    BUMPED = "bumped"


class TimerColour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Ticket(msgspec.Struct, kw_only=True):
    id: str
    order_id: str
    station: str
    location_id: str
    order_number: str
    dining_option: str
    table: str | None = None
    guest: str = ""
    """Who it is for, as the pass calls it out: the table, or the source and notes of a to-go order."""
    promised_at: AwareDatetime | None = None
    """When the guest or courier expects the order (pickup time), from the order's latest version."""
    version: int
    state: TicketState = TicketState.NEW
    items: list[TicketItem] = []
    created_at: AwareDatetime
    fired_at: AwareDatetime
    """When the ticket (or its latest add-on) reached the line: the timer starts here."""
    updated_at: AwareDatetime
    bumped_at: AwareDatetime | None = None
    ready_count: int = 0
    """Expo only: how many times the whole order became ready (the status idempotency counter)."""


def new_ticket(order: Order, station: str, items: list[TicketItem], now: datetime) -> Ticket:
    """The first ticket for ``order`` at ``station``."""
    return Ticket(
        id=ticket_id_for(order.id, station),
        order_id=order.id,
        station=station,
        location_id=order.location_id,
        order_number=order_number(order),
        dining_option=order.dining_option.value,
        table=order.table,
        guest=guest_label(order),
        promised_at=order.promised_at,
        version=order.version,
        items=items,
        created_at=now,
        fired_at=now,
        updated_at=now,
    )


def has_work(ticket: Ticket) -> bool:
    """A ticket shows on its screen when something on it has been fired."""
    return any(item.fired for item in ticket.items)


def is_open(ticket: Ticket) -> bool:
    return ticket.state is not TicketState.BUMPED and has_work(ticket)


def apply_version(ticket: Ticket, order: Order, items: list[TicketItem], now: datetime) -> Ticket | None:
    """The ticket after a newer order version; ``None`` when the version is not newer or neither the
    station's part of the order nor its pickup time changed (the screen hears nothing). A new
    pickup time alone updates the ticket without calling the line back to it."""
    if order.version <= ticket.version:
        return None
    merged, attention = merge_items(ticket.items, items, order.version)
    if merged == ticket.items:
        if order.promised_at == ticket.promised_at:
            return None
        return msgspec.structs.replace(
            ticket, promised_at=order.promised_at, version=order.version, updated_at=now
        )
    changed = reopened(ticket, merged, order.version, attention, now)
    return msgspec.structs.replace(changed, promised_at=order.promised_at)


def refire(ticket: Ticket, items: list[TicketItem], now: datetime) -> Ticket | None:
    """The ticket after a course was fired (same version), or ``None`` when nothing changed."""
    merged, attention = merge_items(ticket.items, items, ticket.version)
    if not attention:
        return None
    return reopened(ticket, merged, ticket.version, attention, now)


def reopened(ticket: Ticket, items: list[TicketItem], version: int, attention: bool, now: datetime) -> Ticket:
    """A changed ticket: back on the screen (timer restarted) if it had been bumped."""
    state = ticket.state
    fired_at = ticket.fired_at
    if attention and state in (TicketState.BUMPED, TicketState.READY):
        state = TicketState.NEW
        fired_at = now
    if attention and not has_work(ticket):
        fired_at = now
    return msgspec.structs.replace(
        ticket, items=items, version=version, state=state, fired_at=fired_at, updated_at=now
    )


def start(ticket: Ticket, now: datetime) -> Ticket:
    """A cook started it (``new`` → ``in_progress``); starting twice is harmless."""
    if ticket.state is TicketState.BUMPED:
        raise RejectedInput(f"ticket {ticket.id} is bumped", fix="recall it first")
    if ticket.state is TicketState.IN_PROGRESS:
        return ticket
    return msgspec.structs.replace(ticket, state=TicketState.IN_PROGRESS, updated_at=now)


def bump(ticket: Ticket, now: datetime) -> Ticket:
    """Done at this station (or, on expo, handed out)."""
    if ticket.state is TicketState.BUMPED:
        return ticket
    return msgspec.structs.replace(ticket, state=TicketState.BUMPED, bumped_at=now, updated_at=now)


def recall(ticket: Ticket, now: datetime) -> Ticket:
    """Bring a bumped ticket back to the screen."""
    if ticket.state is not TicketState.BUMPED:
        raise RejectedInput(f"ticket {ticket.id} is not bumped", fix="only a bumped ticket is recalled")
    return msgspec.structs.replace(ticket, state=TicketState.IN_PROGRESS, bumped_at=None, updated_at=now)


def fired_work_done(station_tickets: Iterable[Ticket]) -> bool:
    """Every station ticket with fired work is bumped (held courses aside)."""
    working = [t for t in station_tickets if has_work(t)]
    return bool(working) and all(t.state is TicketState.BUMPED for t in working)


def is_order_ready(station_tickets: Iterable[Ticket]) -> bool:
    """The whole order is at the pass: no course is still held, something was cooked (a canceled
    order, every line struck, is never "ready"), and every fired station ticket is bumped.

    Why held items count: bumping the starter while the mains wait must not tell the guest to come
    and collect."""
    tickets = list(station_tickets)
    items = [item for ticket in tickets for item in ticket.items if not item.voided]
    held = any(not item.fired for item in items)
    return not held and any(item.fired for item in items) and fired_work_done(tickets)


def expo_state(expo: Ticket, station_tickets: Iterable[Ticket]) -> TicketState:
    """What the expo ticket should show given its station tickets (a bumped expo ticket stays)."""
    if expo.state is TicketState.BUMPED:
        return expo.state
    if is_order_ready(station_tickets):
        return TicketState.READY
    if expo.state is TicketState.READY:
        return TicketState.IN_PROGRESS
    return expo.state


def settle_expo(expo: Ticket, station_tickets: Iterable[Ticket], now: datetime) -> Ticket:
    """``expo`` with its derived state; becoming ready counts one more ``ready_count``."""
    state = expo_state(expo, station_tickets)
    if state is expo.state:
        return expo
    ready_count = expo.ready_count + (1 if state is TicketState.READY else 0)
    return msgspec.structs.replace(expo, state=state, ready_count=ready_count, updated_at=now)


def all_day_counts(tickets: Iterable[Ticket]) -> dict[str, Decimal]:
    """Item name → open quantity over the open tickets: what the station still has to make."""
    counts: dict[str, Decimal] = {}
    for ticket in tickets:
        if not is_open(ticket):
            continue
        for item in ticket.items:
            if item.fired and not item.voided:
                counts[item.name] = counts.get(item.name, Decimal(0)) + item.quantity
    return dict(sorted(counts.items()))


def timer_colour(ticket: Ticket, timing: StationTiming, now: datetime) -> TimerColour:
    """Green, yellow or red by how long the ticket has been on the line."""
    age = (now - ticket.fired_at).total_seconds()
    if age >= timing.red_seconds:
        return TimerColour.RED
    if age >= timing.yellow_seconds:
        return TimerColour.YELLOW
    return TimerColour.GREEN


def is_expo(ticket: Ticket) -> bool:
    return ticket.station == EXPO
