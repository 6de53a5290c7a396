"""The ADP Workforce Now paydata import (EPI) CSV.

Based on ADP's public description of the paydata import (Marketplace listing "Automated Paydata
Integration for ADP Workforce Now"): a header-based CSV whose first three columns are ``Co Code``,
``Batch ID`` and ``File #``, followed by hours and earnings columns (``Reg Hours``, ``O/T Hours``,
``Hours 3 Code``/``Hours 3 Amount``, ``Earnings 3 Code``/``Earnings 3 Amount``, ...), named
``PR<company code>EPI.csv``. Several rows may carry the same ``File #``; ADP adds them up.

Rows written, per employee:

- one per job and rate: ``Temp Rate`` = the job's hourly rate; regular hours in ``Reg Hours``, or,
  when the catalog maps the job to an earning code (``mappings.job_earning_codes``), in
  ``Hours 3 Code``/``Hours 3 Amount`` under that code; overtime in ``O/T Hours``; double time in
  ``Hours 4 Code``/``Hours 4 Amount``;
- one for money: card tips (``Earnings 3``), declared cash tips (``Earnings 4``) and service-charge
  wages (``Earnings 5``), each under its own code; an all-zero row is left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from expediter.connectors.adp.config import AdpSettings
from expediter.connectors.csv.formats import Column, ColumnType, ExportFile, Layout, LineEnding, write_csv
from expediter.errors import ConfigError
from expediter.model.money import Money
from expediter.operations.labor.pay import LaborLine
from expediter.operations.labor.payroll import PayrollEmployee, PayrollPeriod

T, M, D = ColumnType.TEXT, ColumnType.MONEY, ColumnType.DECIMAL


def _c(name: str, type_: ColumnType) -> Column:
    return Column(name=name, type=type_, required=name in ("Co Code", "Batch ID", "File #"))


ADP_EPI = Layout(
    name="adp_epi",
    version=1,
    columns=(
        _c("Co Code", T),
        _c("Batch ID", T),
        _c("File #", T),
        _c("Temp Rate", M),
        _c("Reg Hours", D),
        _c("O/T Hours", D),
        _c("Hours 3 Code", T),
        _c("Hours 3 Amount", D),
        _c("Hours 4 Code", T),
        _c("Hours 4 Amount", D),
        _c("Earnings 3 Code", T),
        _c("Earnings 3 Amount", M),
        _c("Earnings 4 Code", T),
        _c("Earnings 4 Amount", M),
        _c("Earnings 5 Code", T),
        _c("Earnings 5 Amount", M),
    ),
)


def _company_code(settings: AdpSettings) -> str:
    code = settings.company_code.strip()
    if not (2 <= len(code) <= 3 and code.isalnum()):
        raise ConfigError(f"ADP company code {settings.company_code!r} must be 2-3 letters or digits")
    return code


def file_name(settings: AdpSettings) -> str:
    """``PR<co code>EPI.csv``; a two-character code is padded with ``_`` to ADP's three places."""
    return f"PR{_company_code(settings).ljust(3, '_')}EPI.csv"


def _hours(value: Decimal) -> Decimal | None:
    return value if value else None


def _hours_row(
    head: tuple[str, str, str], line: LaborLine, codes: Mapping[str, str], s: AdpSettings
) -> list[Any]:
    job_code = codes.get(line.job_code)
    row: list[Any] = [*head, line.hourly_wage if s.send_temp_rate else None]
    row += [None if job_code else _hours(line.regular_hours), _hours(line.overtime_hours)]
    row += [job_code, _hours(line.regular_hours)] if job_code and line.regular_hours else [None, None]
    dt = line.double_time_hours
    row += [s.double_time_hours_code, dt] if dt else [None, None]
    return row + [None] * 6


def _money_row(head: tuple[str, str, str], person: PayrollEmployee, s: AdpSettings) -> list[Any] | None:
    pairs: list[tuple[str, Money]] = [
        (s.card_tips_earnings_code, person.card_tips),
        (s.declared_cash_tips_earnings_code, person.declared_cash_tips),
        (s.service_charge_earnings_code, person.service_charge_wages),
    ]
    if not any(amount.amount for _, amount in pairs):
        return None
    row: list[Any] = [*head, None, None, None, None, None, None, None]
    for code, amount in pairs:
        row += [code, amount] if amount.amount else [None, None]
    return row


def epi_rows(
    period: PayrollPeriod, settings: AdpSettings, job_codes: Mapping[str, str]
) -> Iterator[list[Any]]:
    company, batch = _company_code(settings), settings.batch_id or f"EX{period.end:%m%d}"
    for person in period.employees:
        head = (company, batch, person.payroll_id)
        for line in person.lines:
            if line.total_hours:
                yield _hours_row(head, line, job_codes, settings)
        money = _money_row(head, person, settings)
        if money is not None:
            yield money


def paydata_file(
    period: PayrollPeriod,
    settings: AdpSettings,
    job_earning_codes: Mapping[str, str] | None = None,
    *,
    line_ending: LineEnding = LineEnding.CRLF,
) -> ExportFile:
    """The EPI file of a pay period: ``.name`` is ``PR<co code>EPI.csv``, ``.content`` the bytes."""
    rows = epi_rows(period, settings, job_earning_codes or {})
    return write_csv(ADP_EPI, rows, name=file_name(settings), line_ending=line_ending)
