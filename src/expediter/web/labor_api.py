"""``POST /api/v1/punches`` and ``POST /api/v1/employees``: the time clock and the roster, canonical.

Both follow the orders endpoint's rules: a bearer token from the catalog, ``Idempotency-Key``
honoured (202 once durably stored, 200 for a repeat, 409 for a key or a version already used for
other content), card numbers refused before anything is stored, values in bounds and times near
the hub's clock, a system limited to some locations posting for those only, and every refusal
says what, where and how to fix it. A punch belongs to the business date of its clock-in, on the
location's own clock. One punch version is one message, with or without a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from expediter.connectors.base import IncomingMessage
from expediter.engine.hub import Hub
from expediter.errors import RejectedInput
from expediter.ledger.transfers import checksum_of
from expediter.model import clock
from expediter.model.labor import (
    Employee,
    TimePunch,
    refuse_implausible_employee,
    refuse_implausible_punch,
)
from expediter.web.api import (
    ApiError,
    Lookups,
    Tokens,
    bad_json,
    conflict_of,
    invalid,
    json_response,
    refuse_other_locations,
    rejected,
    request_key,
    screen_json,
)
from expediter.web.bodies import UNREADABLE

T = TypeVar("T", TimePunch, Employee)


class Stored(msgspec.Struct, kw_only=True):
    message_id: int
    id: str
    duplicate: bool
    business_date: date | None
    idempotency_key: str


def decode_strict(body: bytes, kind: type[T], what: str) -> T:
    screen_json(body)
    try:
        record = msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise invalid(exc, what, f"the {kind.__name__} schema") from None
    except UNREADABLE as exc:
        raise bad_json(exc) from None
    try:
        if isinstance(record, TimePunch):
            refuse_implausible_punch(record, clock.now())
        else:
            refuse_implausible_employee(record)
    except RejectedInput as exc:
        raise rejected(exc) from None
    return record


class LaborApi:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.tokens = Tokens(hub.catalog.api_tokens)
        self.lookups = Lookups(hub.catalog)

    def _source(self, headers: Mapping[str, str]) -> str:
        token = self.tokens.authenticate(headers)
        if len(token.systems) != 1:
            raise ApiError(
                403,
                "punches and employees must come from one system",
                where="headers.Authorization",
                fix="use a token whose api_tokens entry names exactly one system (the POS or time clock)",
            )
        return token.systems[0]

    def _location(self, source: str, location_id: str) -> None:
        if self.hub.catalog.location(location_id) is None:
            raise ApiError(
                422,
                f"unknown location {location_id!r}",
                where="$.location_id",
                fix="use the id of a location declared in the catalog",
            )
        refuse_other_locations(source, location_id, self.lookups)

    async def _store(
        self, message: IncomingMessage, ref: str, day: date | None, headers: Mapping[str, str], what: str
    ) -> Response:
        """Store once under the record's own key, the sender's key beside it (409 when either
        already stands for other content)."""
        try:
            given = request_key(headers, message.source_system)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        accepted = await self.hub.inbox.accept(
            message, ref=ref, business_date=day, request_key=given, screened=True
        )
        conflict = conflict_of(accepted, what)
        if conflict is not None:
            return json_response(conflict.body, conflict.status)
        body = Stored(
            message_id=accepted.message_id,
            id=ref,
            duplicate=accepted.duplicate,
            business_date=day,
            idempotency_key=headers.get("idempotency-key") or message.idempotency_key,
        )
        return json_response(body, 200 if accepted.duplicate else 202)

    async def punches(self, request: Request) -> Response:
        try:
            source = self._source(request.headers)
            punch = decode_strict(await request.body(), TimePunch, "time punch")
            self._location(source, punch.location_id)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        location = self.hub.catalog.location(punch.location_id)
        assert location is not None
        message = IncomingMessage(
            source_system=source,
            kind="punches",
            idempotency_key=f"{source}:punch:{punch.id}:{punch.version}",
            payload=msgspec.json.encode(punch),
            location_id=punch.location_id,
        )
        day = location.business_date_for(punch.clock_in)
        return await self._store(message, punch.id, day, request.headers, "punch")

    async def employees(self, request: Request) -> Response:
        try:
            source = self._source(request.headers)
            employee = decode_strict(await request.body(), Employee, "employee")
            self._location(source, employee.location_id)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        payload = msgspec.json.encode(employee)
        message = IncomingMessage(
            source_system=source,
            kind="employees",
            idempotency_key=f"{source}:employee:{employee.id}:{checksum_of(payload)}",
            payload=payload,
            location_id=employee.location_id,
        )
        return await self._store(message, employee.id, None, request.headers, "employee")


def routes(hub: Hub) -> list[BaseRoute]:
    api = LaborApi(hub)
    return [
        Route("/api/v1/punches", api.punches, methods=["POST"]),
        Route("/api/v1/employees", api.employees, methods=["POST"]),
    ]
