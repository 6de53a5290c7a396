"""The ADP Workforce Now paydata import (EPI) CSV.

Based on ADP's public description of the paydata import (Marketplace listing "Automated Paydata
Integration for ADP Workforce Now"): a header-based CSV whose first three columns are ``Co Code``,
``Batch ID`` and ``File #``, followed by hours and earnings columns (``Reg Hours``, ``O/T Hours``,
``Hours 3 Code``/``Hours 3 Amount``, ``Earnings 3/4/5 Code``/``Amount``, ``Memo Code``/``Memo
Amount``, ``Temp Rate``...), named ``PR<company code>EPI.csv``. Several rows may carry the same
``File #``; ADP adds them up. Hours codes are one or two characters.

Rows written, per employee:

- one per job and rate: ``Temp Rate`` = the job's hourly rate; regular hours in ``Reg Hours``,
  overtime in ``O/T Hours`` (ADP pays 1.5 × Temp Rate), double time under ``Hours 3`` with the
  double-time hours code (set up at 2×);
- money rows: tips rung on the POS, service-charge wages, California's split-shift premium and the
  regular-rate adjustment (the overtime the hours rows leave out when an employee has several
  rates in a week or a tip credit), up to three per row in ``Earnings 3/4/5``; declared cash tips
  as a memo (``Memo Code``/``Memo Amount``): reported income, not paid again.

So the rows add up, as ADP computes them, to the pay of
:mod:`expediter.operations.labor.workweek`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from expediter.connectors.adp.config import AdpSettings
from expediter.formats.csv import Column, ColumnType, ExportFile, Layout, LineEnding, write_csv
from expediter.model.money import Money
from expediter.model.payroll import (
    LaborLine,
    PayrollEmployee,
    PayrollPeriod,
    regular_rate_adjustment,
    split_shift_pay,
)
from expediter.plugin import ConfigError

T, M, D = ColumnType.TEXT, ColumnType.MONEY, ColumnType.DECIMAL
EARNINGS_SLOTS = 3
"""``Earnings 3``, ``4`` and ``5`` per row."""


def _c(name: str, type_: ColumnType) -> Column:
    return Column(name=name, type=type_, required=name in ("Co Code", "Batch ID", "File #"))


ADP_EPI = Layout(
    name="adp_epi",
    version=2,
    columns=(
        _c("Co Code", T),
        _c("Batch ID", T),
        _c("File #", T),
        _c("Temp Rate", M),
        _c("Reg Hours", D),
        _c("O/T Hours", D),
        _c("Hours 3 Code", T),
        _c("Hours 3 Amount", D),
        _c("Earnings 3 Code", T),
        _c("Earnings 3 Amount", M),
        _c("Earnings 4 Code", T),
        _c("Earnings 4 Amount", M),
        _c("Earnings 5 Code", T),
        _c("Earnings 5 Amount", M),
        _c("Memo Code", T),
        _c("Memo Amount", M),
    ),
)


def _company_code(settings: AdpSettings) -> str:
    code = settings.company_code.strip()
    if not (2 <= len(code) <= 3 and code.isalnum()):
        raise ConfigError(f"ADP company code {settings.company_code!r} must be 2-3 letters or digits")
    return code


def _code(value: str, setting: str, longest: int) -> str:
    """An ADP code as set up on the company: letters or digits, at most ``longest`` characters."""
    code = value.strip()
    if code and not (len(code) <= longest and code.isalnum()):
        raise ConfigError(
            f"ADP {setting} {value!r} must be 1-{longest} letters or digits (as set up in ADP);"
            f" set systems.settings.{setting} to the code the payroll admin uses"
        )
    return code


def _memo_code(settings: AdpSettings) -> str:
    chosen = settings.declared_cash_tips_earnings_code or settings.declared_cash_tips_memo_code
    return _code(chosen, "declared_cash_tips_memo_code", 3)


def check_codes(settings: AdpSettings) -> None:
    """Refuse codes ADP would reject, before any row is written."""
    _code(settings.double_time_hours_code, "double_time_hours_code", 2)
    for setting in (
        "card_tips_earnings_code",
        "service_charge_earnings_code",
        "regular_rate_adjustment_code",
        "split_shift_earnings_code",
    ):
        _code(getattr(settings, setting), setting, 3)
    _memo_code(settings)


def file_name(settings: AdpSettings) -> str:
    """``PR<co code>EPI.csv``; a two-character code is padded with ``_`` to ADP's three places."""
    return f"PR{_company_code(settings).ljust(3, '_')}EPI.csv"


def _hours(value: Decimal) -> Decimal | None:
    return value if value else None


def _hours_row(head: tuple[str, str, str], line: LaborLine, s: AdpSettings) -> list[Any]:
    row: list[Any] = [*head, line.hourly_wage if s.send_temp_rate else None]
    row += [_hours(line.regular_hours), _hours(line.overtime_hours)]
    dt = line.double_time_hours
    row += [s.double_time_hours_code.strip(), dt] if dt else [None, None]
    return row + [None] * (2 * EARNINGS_SLOTS + 2)


def money_items(person: PayrollEmployee, s: AdpSettings) -> list[tuple[str, Money]]:
    """The employee's money earnings with their codes, zero ones left out."""
    items = [
        (s.card_tips_earnings_code.strip(), person.pos_tips),
        (s.service_charge_earnings_code.strip(), person.service_charge_wages),
        (s.split_shift_earnings_code.strip(), split_shift_pay(person)),
    ]
    if s.regular_rate_adjustment_code.strip():
        items.append((s.regular_rate_adjustment_code.strip(), regular_rate_adjustment(person)))
    return [(code, amount) for code, amount in items if amount.amount]


def _money_rows(head: tuple[str, str, str], person: PayrollEmployee, s: AdpSettings) -> Iterator[list[Any]]:
    items = money_items(person, s)
    memo = person.declared_cash_tips
    chunks = [items[i : i + EARNINGS_SLOTS] for i in range(0, len(items), EARNINGS_SLOTS)]
    if memo.amount and not chunks:
        chunks = [[]]
    for index, chunk in enumerate(chunks):
        row: list[Any] = [*head, None, None, None, None, None]
        for slot in range(EARNINGS_SLOTS):
            row += list(chunk[slot]) if slot < len(chunk) else [None, None]
        row += [_memo_code(s), memo] if index == 0 and memo.amount else [None, None]
        yield row


def epi_rows(period: PayrollPeriod, settings: AdpSettings) -> Iterator[list[Any]]:
    check_codes(settings)
    company, batch = _company_code(settings), settings.batch_id or f"EX{period.end:%m%d}"
    for person in period.employees:
        head = (company, batch, person.payroll_id)
        for line in person.lines:
            if line.total_hours:
                yield _hours_row(head, line, settings)
        yield from _money_rows(head, person, settings)


def paydata_file(
    period: PayrollPeriod,
    settings: AdpSettings,
    job_earning_codes: Mapping[str, str] | None = None,
    *,
    line_ending: LineEnding = LineEnding.CRLF,
) -> ExportFile:
    """The EPI file of a pay period: ``.name`` is ``PR<co code>EPI.csv``, ``.content`` the bytes.

    Regular hours always go in ``Reg Hours`` (jobs are told apart by their ``Temp Rate``), so
    ``job_earning_codes`` is not used here; it is kept for the callers that pass it."""
    del job_earning_codes
    rows = epi_rows(period, settings)
    return write_csv(ADP_EPI, rows, name=file_name(settings), line_ending=line_ending)
