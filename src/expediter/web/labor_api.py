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

from expediter.catalog.schema import ApiToken
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
from expediter.model.strict import is_unknown_field, strict_twin, with_unknown_fields
from expediter.monitor.drift import Arrival
from expediter.plugin.base import IncomingMessage
from expediter.web.api import (
    ApiError,
    Lookups,
    Tokens,
    bad_json,
    check_location,
    conflict_of,
    invalid,
    json_response,
    refuse_other_locations,
    rejected,
    request_key,
    screen_json,
)
from expediter.web.bodies import UNREADABLE
from expediter.web.roles import Caller, open_to

T = TypeVar("T", TimePunch, Employee)


class Stored(msgspec.Struct, kw_only=True):
    message_id: int
    id: str
    duplicate: bool
    business_date: date | None
    idempotency_key: str


def decode_strict(body: bytes, kind: type[T], what: str) -> tuple[T, bool]:
    """The record, checked, and whether it holds only fields the model knows (see
    :func:`expediter.web.api.decode_order`: one with an unknown field is still read)."""
    screen_json(body)
    try:
        record, known = _decode_checked(body, kind)
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
    return record, known


def _decode_checked(body: bytes, kind: type[T]) -> tuple[T, bool]:
    """Strict first (an unknown field is seen at no extra cost), then as the model reads it."""
    try:
        return msgspec.json.decode(body, type=strict_twin(kind)), True
    except msgspec.ValidationError as exc:
        if not is_unknown_field(exc):
            raise
    return msgspec.json.decode(body, type=kind), False


class LaborApi:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.tokens = Tokens(hub.catalog.api_tokens)
        self.lookups = Lookups(hub.catalog)

    def _source(self, headers: Mapping[str, str]) -> ApiToken:
        token = self.tokens.authenticate(headers)
        if len(token.systems) != 1:
            raise ApiError(
                403,
                "punches and employees must come from one system",
                where="headers.Authorization",
                fix="use a token whose api_tokens entry names exactly one system (the POS or time clock)",
            )
        return token

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
        self,
        message: IncomingMessage,
        ref: str,
        day: date | None,
        headers: Mapping[str, str],
        what: str,
        raw: bytes,
    ) -> Response:
        """Store once under the record's own key, the sender's key beside it (409 when either
        already stands for other content)."""
        try:
            given = request_key(headers, message.source_system)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        accepted = await self.hub.inbox.accept(
            message,
            ref=ref,
            business_date=day,
            request_key=given,
            screened=True,
            arrival=Arrival.UNCHECKED,
            raw=raw,
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

    @open_to(Caller.MACHINE)
    async def punches(self, request: Request) -> Response:
        try:
            token = self._source(request.headers)
            body = await request.body()
            punch, known = decode_strict(body, TimePunch, "time punch")
            source = token.systems[0]
            self._location(source, punch.location_id)
            check_location(token, punch.location_id)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        location = self.hub.catalog.location(punch.location_id)
        assert location is not None
        payload = msgspec.json.encode(punch)
        if not known:
            payload = with_unknown_fields(body, payload, TimePunch)
        message = IncomingMessage(
            source_system=source,
            kind="punches",
            idempotency_key=f"{source}:punch:{punch.id}:{punch.version}",
            payload=payload,
            location_id=punch.location_id,
        )
        day = location.business_date_for(punch.clock_in)
        return await self._store(message, punch.id, day, request.headers, "punch", body)

    @open_to(Caller.MACHINE)
    async def employees(self, request: Request) -> Response:
        try:
            token = self._source(request.headers)
            body = await request.body()
            employee, known = decode_strict(body, Employee, "employee")
            source = token.systems[0]
            self._location(source, employee.location_id)
            check_location(token, employee.location_id)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        payload = msgspec.json.encode(employee)
        if not known:
            payload = with_unknown_fields(body, payload, Employee)
        message = IncomingMessage(
            source_system=source,
            kind="employees",
            idempotency_key=f"{source}:employee:{employee.id}:{checksum_of(payload)}",
            payload=payload,
            location_id=employee.location_id,
        )
        return await self._store(message, employee.id, None, request.headers, "employee", body)


def routes(hub: Hub) -> list[BaseRoute]:
    api = LaborApi(hub)
    return [
        Route("/api/v1/punches", api.punches, methods=["POST"]),
        Route("/api/v1/employees", api.employees, methods=["POST"]),
    ]
