"""``POST /api/v1/punches`` and ``POST /api/v1/employees``: the time clock and the roster, canonical.

Both follow the orders endpoint's rules: a bearer token from the catalog, ``Idempotency-Key``
honoured (202 once durably stored, 200 for a repeat), card numbers refused before anything is
stored, and every refusal says what, where and how to fix it. A punch belongs to the business date
of its clock-in, on the location's own clock.
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
from expediter.model.cards import refuse_card_numbers
from expediter.model.labor import Employee, TimePunch
from expediter.model.strict import is_unknown_field, strict_twin, with_unknown_fields
from expediter.monitor.drift import Arrival
from expediter.web.api import ApiError, Tokens, holds_card_number, json_response, rejected

T = TypeVar("T", TimePunch, Employee)
_AT = " - at `"


class Stored(msgspec.Struct, kw_only=True):
    message_id: int
    id: str
    duplicate: bool
    business_date: date | None
    idempotency_key: str


def decode_strict(body: bytes, kind: type[T], what: str) -> tuple[T, bool]:
    """The record, and whether it holds only fields the model knows (see
    :func:`expediter.web.api.decode_order`: one with an unknown field is still read)."""
    if holds_card_number(body):
        try:
            refuse_card_numbers(msgspec.json.decode(body))
        except RejectedInput as exc:
            raise rejected(exc) from None
        except msgspec.DecodeError:
            pass  # the decode below says what is wrong with the JSON
    try:
        return msgspec.json.decode(body, type=strict_twin(kind)), True
    except msgspec.ValidationError as exc:
        if not is_unknown_field(exc):
            raise _invalid(exc, what) from None
    except msgspec.DecodeError as exc:
        raise ApiError(
            400, f"the body is not valid JSON: {exc}", where="body", fix="send a JSON object"
        ) from None
    try:
        return msgspec.json.decode(body, type=kind), False
    except msgspec.ValidationError as exc:
        raise _invalid(exc, what) from None


def _invalid(exc: msgspec.ValidationError, what: str) -> ApiError:
    text, _, path = str(exc).partition(_AT)
    return ApiError(
        422, text, where=path.rstrip("`") or "$", fix=f"send a {what} as described in /openapi.json"
    )


class LaborApi:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.tokens = Tokens(hub.catalog.api_tokens)

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

    def _location(self, location_id: str) -> None:
        if self.hub.catalog.location(location_id) is None:
            raise ApiError(
                422,
                f"unknown location {location_id!r}",
                where="$.location_id",
                fix="use the id of a location declared in the catalog",
            )

    async def _store(
        self,
        source: str,
        kind: str,
        ref: str,
        location_id: str,
        day: date | None,
        payload: bytes,
        key: str,
        raw: bytes,
    ) -> Response:
        message = IncomingMessage(
            source_system=source, kind=kind, idempotency_key=key, payload=payload, location_id=location_id
        )
        accepted = await self.hub.inbox.accept(
            message, ref=ref, business_date=day, arrival=Arrival.UNCHECKED, raw=raw
        )
        body = Stored(
            message_id=accepted.message_id,
            id=ref,
            duplicate=accepted.duplicate,
            business_date=day,
            idempotency_key=key,
        )
        return json_response(body, 200 if accepted.duplicate else 202)

    async def punches(self, request: Request) -> Response:
        try:
            source = self._source(request.headers)
            body = await request.body()
            punch, known = decode_strict(body, TimePunch, "time punch")
            self._location(punch.location_id)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        location = self.hub.catalog.location(punch.location_id)
        assert location is not None
        day = location.business_date_for(punch.clock_in)
        key = request.headers.get("idempotency-key") or f"{source}:punch:{punch.id}:{punch.version}"
        payload = msgspec.json.encode(punch)
        if not known:
            payload = with_unknown_fields(body, payload, TimePunch)
        return await self._store(source, "punches", punch.id, punch.location_id, day, payload, key, body)

    async def employees(self, request: Request) -> Response:
        try:
            source = self._source(request.headers)
            body = await request.body()
            employee, known = decode_strict(body, Employee, "employee")
            self._location(employee.location_id)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        payload = msgspec.json.encode(employee)
        if not known:
            payload = with_unknown_fields(body, payload, Employee)
        key = (
            request.headers.get("idempotency-key")
            or f"{source}:employee:{employee.id}:{checksum_of(payload)}"
        )
        return await self._store(
            source, "employees", employee.id, employee.location_id, None, payload, key, body
        )


def routes(hub: Hub) -> list[BaseRoute]:
    api = LaborApi(hub)
    return [
        Route("/api/v1/punches", api.punches, methods=["POST"]),
        Route("/api/v1/employees", api.employees, methods=["POST"]),
    ]
