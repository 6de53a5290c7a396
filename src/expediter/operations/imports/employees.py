"""The roster: one row per job an employee works (``employee_id, name, job_code, job_name,
hourly_wage``, optionally ``location_id``, ``payroll_id``, ``tipped``, ``manager``).

Rows with one ``employee_id`` are one employee: their jobs are kept together, and a bad row
quarantines the employee whole (half a roster entry would pay the other jobs wrong). Committed
employees are inbox messages of kind ``employees`` (as ``POST /api/v1/employees`` stores them), the
newest of which payroll reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import msgspec

from expediter.model.labor import Employee, Job
from expediter.operations.imports.base import ImportContext, KeyRule, Parsed, Stored, Target, json_payload
from expediter.operations.imports.rows import Cells, Column


class RosterRow(msgspec.Struct, frozen=True, kw_only=True):
    employee_id: str
    name: str
    location_id: str
    job: Job
    payroll_id: str | None = None


class Roster:
    data: ClassVar[str] = "employees"
    title: ClassVar[str] = "employee roster"
    columns: ClassVar[tuple[Column, ...]] = (
        Column(name="employee_id", description="the POS's employee id"),
        Column(name="name"),
        Column(name="job_code", description="the POS's job code (one row per job)"),
        Column(name="job_name"),
        Column(name="hourly_wage", description="per hour, e.g. 16.50"),
        Column(name="location_id", required=False, description="default: the import's location"),
        Column(name="payroll_id", required=False, description="the payroll provider's number"),
        Column(name="tipped", required=False, description="yes or no"),
        Column(name="manager", required=False, description="yes or no"),
    )
    key_rule: ClassVar[KeyRule] = KeyRule.GROUP
    target: ClassVar[Target] = Target.INBOX
    record_type: ClassVar[type[msgspec.Struct]] = RosterRow

    def __init__(self, context: ImportContext) -> None:
        self.context = context
        self._seen: dict[str, tuple[int, str, str | None]] = {}
        self._jobs: set[tuple[str, str]] = set()

    def parse(self, cells: Cells) -> Parsed | None:
        employee_id = cells.text("employee_id", longest=64)
        name = cells.text("name")
        code = cells.text("job_code", longest=64)
        job_name = cells.text("job_name", required=False) or code
        wage = cells.money("hourly_wage", self.context.currency)
        location_id = cells.raw("location_id") or self.context.location.id
        if self.context.catalog.location(location_id) is None:
            cells.problem(
                "location_id", f"unknown location {location_id!r}", "use a location id of the catalog"
            )
        payroll_id = cells.raw("payroll_id") or None
        tipped, manager = cells.flag("tipped"), cells.flag("manager")
        if employee_id and name:
            self._agrees(cells, employee_id, name, payroll_id)
        if employee_id and code and (employee_id, code) in self._jobs:
            cells.problem(
                "job_code", f"job {code!r} is listed twice for {employee_id}", "keep one row per job"
            )
        if cells.problems or wage is None:
            return None
        self._jobs.add((employee_id, code))
        job = Job(code=code, name=job_name, hourly_wage=wage, tipped=tipped, manager=manager)
        row = RosterRow(
            employee_id=employee_id, name=name, location_id=location_id, job=job, payroll_id=payroll_id
        )
        return Parsed(key=employee_id, record=row)

    def _agrees(self, cells: Cells, employee_id: str, name: str, payroll_id: str | None) -> None:
        """Every row of one employee names them the same way."""
        first = self._seen.setdefault(employee_id, (cells.number, name, payroll_id))
        row, known_name, known_payroll = first
        if known_name != name:
            cells.problem("name", f"{name!r} differs from {known_name!r} in row {row}", "spell it the same")
        if payroll_id and known_payroll and known_payroll != payroll_id:
            cells.problem("payroll_id", f"{payroll_id!r} differs from row {row}", "one payroll id each")

    def stored(self, groups: Iterable[tuple[str, Sequence[Any]]], earlier: str | None) -> list[Stored]:
        found = []
        for employee_id, rows in groups:
            first = rows[0]
            employee = Employee(
                id=employee_id,
                name=first.name,
                location_id=first.location_id,
                jobs=[row.job for row in rows],
                payroll_id=next((row.payroll_id for row in rows if row.payroll_id), None),
            )
            found.append(
                Stored(
                    kind="employees",
                    ref=employee_id,
                    payload=json_payload(employee),
                    location_id=first.location_id,
                )
            )
        return found
