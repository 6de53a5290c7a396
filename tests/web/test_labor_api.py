"""Punches and the roster over the real HTTP stack: stored once, on the right business date."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import msgspec

from expediter.catalog.schema import Catalog
from expediter.engine.hub import Hub
from expediter.engine.jobs import employees_at, punches_between
from expediter.model.labor import Employee, Job, TimePunch
from expediter.model.money import Money
from tests.engine.helpers import Board
from tests.web.conftest import API_TOKEN
from tests.web.test_api import run

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
LATE_SHIFT = TimePunch(
    id="p-1",
    employee_id="E1",
    location_id="L1",
    job_code="bartender",
    clock_in=datetime(2026, 3, 14, 22, 0, tzinfo=UTC),  # 18:00 in New York
    clock_out=datetime(2026, 3, 15, 6, 30, tzinfo=UTC),  # 02:30 the next morning
    hourly_wage=Money(1500),
)
EMPLOYEE = Employee(
    id="E1",
    name="Jo Bartender",
    location_id="L1",
    payroll_id="1001",
    jobs=[Job(code="bartender", name="Bartender", hourly_wage=Money(1500), tipped=True)],
)


def test_a_punch_is_stored_once_on_its_clock_in_business_date(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        body = msgspec.json.encode(LATE_SHIFT)
        first = await client.post("/api/v1/punches", content=body, headers=AUTH)
        again = await client.post("/api/v1/punches", content=body, headers=AUTH)
        assert (first.status_code, again.status_code) == (202, 200)
        assert first.json()["business_date"] == "2026-03-14"
        stored = await punches_between(hub, "L1", date(2026, 3, 14), date(2026, 3, 14))
        assert stored == [LATE_SHIFT]

        staff = await client.post("/api/v1/employees", content=msgspec.json.encode(EMPLOYEE), headers=AUTH)
        assert staff.status_code == 202
        assert await employees_at(hub, "L1") == [EMPLOYEE]

    run(catalog, scenario)


def test_bad_punches_are_refused_with_where_and_nothing_is_stored(catalog: Catalog) -> None:
    async def scenario(hub: Hub, client: httpx.AsyncClient, board: Board) -> None:
        naive = msgspec.to_builtins(LATE_SHIFT) | {"clock_in": "2026-03-14T18:00:00"}
        refused = await client.post("/api/v1/punches", json=naive, headers=AUTH)
        assert refused.status_code == 422 and refused.json()["where"] == "$.clock_in"
        elsewhere = msgspec.to_builtins(LATE_SHIFT) | {"location_id": "L9"}
        unknown = await client.post("/api/v1/punches", json=elsewhere, headers=AUTH)
        assert unknown.status_code == 422 and "L9" in unknown.json()["error"]
        card = msgspec.to_builtins(EMPLOYEE) | {"name": "4111 1111 1111 1111"}
        with_card = await client.post("/api/v1/employees", json=card, headers=AUTH)
        assert with_card.status_code == 422 and "4111" not in with_card.text
        anonymous = await client.post("/api/v1/punches", content=msgspec.json.encode(LATE_SHIFT))
        assert anonymous.status_code == 401
        assert await hub.inbox.count() == 0

    run(catalog, scenario)
