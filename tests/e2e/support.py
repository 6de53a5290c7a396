"""Shared by the end-to-end tests: a simulated day stored in a hub as the POS would have sent it."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from expediter.engine.hub import Hub
from expediter.model.labor import Employee
from expediter.model.location import Location
from expediter.plugin.base import IncomingMessage
from expediter.sim.day import DaySimulation


async def store_day(hub: Hub, location: Location, day: DaySimulation, employees: Iterable[Employee]) -> None:
    """Every version of every check, every punch and the roster, through the inbox with the same
    refs and business dates the HTTP API gives them."""

    def message(kind: str, ref: str, payload: bytes) -> IncomingMessage:
        return IncomingMessage(
            source_system="pos",
            kind=kind,
            idempotency_key=f"pos:{kind}:{ref}",
            payload=payload,
            location_id=location.id,
        )

    for order in day.orders:
        encoded = msgspec.json.encode(order)
        await hub.inbox.accept(
            message("orders", f"{order.id}:{order.version}", encoded),
            ref=order.id,
            business_date=order.business_date,
        )
    for punch in day.punches:
        await hub.inbox.accept(
            message("punches", punch.id, msgspec.json.encode(punch)),
            ref=punch.id,
            business_date=location.business_date_for(punch.clock_in),
        )
    for employee in employees:
        await hub.inbox.accept(
            message("employees", employee.id, msgspec.json.encode(employee)), ref=employee.id
        )
