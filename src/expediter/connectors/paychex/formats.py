"""The Paychex Standard Payroll Import (SPI) CSV.

Based on Paychex's public "SPI Specification Sheet" and "Standard Payroll Import Overview" (Paychex
Flex help): a fixed-order file, every column present, starting ``Client ID``, ``Worker ID``, ``Org``,
``Job Number``, ``Pay Component``, ``Rate``, ``Rate Number``, ``Hours``, ``Units``, ``Line Date``,
``Amount``, ... One row is one earning of one worker; an earning carries a rate *or* an amount, not
both. Hours are ``-999.99`` to ``999.99``.

Rows written per employee: for each job and rate, one row per pay class with hours (the regular
component is the job's earning code from ``mappings.job_earning_codes`` when mapped), ``Rate`` the
job's hourly rate (Paychex applies the component's 1.5× or 2×); then one amount row each for the
tips rung on the POS, service-charge wages, California's split-shift premium and the regular-rate
adjustment (the overtime the hours rows leave out for several rates in a week or a tip credit),
and declared cash tips (a memo earning: reported, not paid), those that are not zero. The rows add
up, as Paychex computes them, to the pay of :mod:`expediter.operations.labor.workweek`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from expediter.connectors.paychex.config import PaychexSettings
from expediter.formats.csv import Column, ColumnType, ExportFile, Layout, LineEnding, write_csv
from expediter.model.money import Money
from expediter.model.payroll import (
    LaborLine,
    PayrollEmployee,
    PayrollPeriod,
    regular_rate_adjustment,
    split_shift_pay,
)
from expediter.plugin import ConfigError, RejectedInput

T, M, D, N = ColumnType.TEXT, ColumnType.MONEY, ColumnType.DECIMAL, ColumnType.INTEGER
MAX_HOURS = Decimal("999.99")

SPI = Layout(
    name="paychex_spi",
    version=1,
    columns=tuple(
        Column(name=name, type=type_, required=name in ("Client ID", "Worker ID", "Pay Component"))
        for name, type_ in (
            ("Client ID", T),
            ("Worker ID", T),
            ("Org", T),
            ("Job Number", T),
            ("Pay Component", T),
            ("Rate", M),
            ("Rate Number", N),
            ("Hours", D),
            ("Units", D),
            ("Line Date", T),
            ("Amount", M),
            ("Check Seq Number", N),
            ("Override State", T),
            ("Override Local", T),
            ("Override Local Jurisdiction", T),
            ("Labor Assignment", T),
        )
    ),
)


def _client_id(settings: PaychexSettings) -> str:
    client = settings.client_id.strip()
    if not (1 <= len(client) <= 8 and client.isalnum()):
        raise ConfigError(f"Paychex client id {settings.client_id!r} must be 1-8 letters or digits")
    return client


def file_name(settings: PaychexSettings, period: PayrollPeriod) -> str:
    return f"paychex_spi_{_client_id(settings)}_{period.start:%Y%m%d}_{period.end:%Y%m%d}.csv"


def _row(client: str, worker: str, job: str | None, component: str, **values: Any) -> list[Any]:
    return [
        client,
        worker,
        None,
        job,
        component,
        values.get("rate"),
        None,
        values.get("hours"),
        None,
        None,
        values.get("amount"),
        None,
        None,
        None,
        None,
        None,
    ]


def _check_hours(person: PayrollEmployee, hours: Decimal) -> Decimal:
    if hours > MAX_HOURS:
        raise RejectedInput(
            f"{hours} hours on one row for worker {person.payroll_id} exceeds Paychex's {MAX_HOURS}",
            where=f"employee {person.employee_id}",
            fix="check the punches for a shift never clocked out",
        )
    return hours


def _hour_rows(
    client: str, person: PayrollEmployee, line: LaborLine, codes: Mapping[str, str], s: PaychexSettings
) -> Iterator[list[Any]]:
    job = line.job_code if s.send_job_number else None
    classes = (
        (codes.get(line.job_code, s.regular_component), line.regular_hours),
        (s.overtime_component, line.overtime_hours),
        (s.double_time_component, line.double_time_hours),
    )
    for component, hours in classes:
        if hours:
            yield _row(
                client,
                person.payroll_id,
                job,
                component,
                rate=line.hourly_wage,
                hours=_check_hours(person, hours),
            )


def _amount_rows(client: str, person: PayrollEmployee, s: PaychexSettings) -> Iterator[list[Any]]:
    amounts: list[tuple[str, Money]] = [
        (s.card_tips_component, person.pos_tips),
        (s.service_charge_component, person.service_charge_wages),
        (s.split_shift_component, split_shift_pay(person)),
    ]
    if s.regular_rate_adjustment_component:
        amounts.append((s.regular_rate_adjustment_component, regular_rate_adjustment(person)))
    amounts.append((s.declared_cash_tips_component, person.declared_cash_tips))
    for component, amount in amounts:
        if amount.amount:
            yield _row(client, person.payroll_id, None, component, amount=amount)


def spi_rows(
    period: PayrollPeriod, settings: PaychexSettings, codes: Mapping[str, str]
) -> Iterator[list[Any]]:
    client = _client_id(settings)
    for person in period.employees:
        for line in person.lines:
            yield from _hour_rows(client, person, line, codes, settings)
        yield from _amount_rows(client, person, settings)


def payroll_import_file(
    period: PayrollPeriod,
    settings: PaychexSettings,
    job_earning_codes: Mapping[str, str] | None = None,
    *,
    line_ending: LineEnding = LineEnding.CRLF,
) -> ExportFile:
    """The SPI file of a pay period (``.name``, ``.content`` bytes)."""
    rows = spi_rows(period, settings, job_earning_codes or {})
    return write_csv(SPI, rows, name=file_name(settings, period), line_ending=line_ending)
