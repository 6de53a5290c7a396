"""What every check shares: the verdict from its differences, and amounts in words."""

from __future__ import annotations

from datetime import date

from expediter.model.money import Money
from expediter.monitor.reconcile.model import CheckName, CheckResult, CheckState, Difference, Unit


def verdict(
    check: CheckName,
    location_id: str,
    business_date: date,
    differences: list[Difference],
    *,
    agreed: str,
    pending: str = "",
    **fields: object,
) -> CheckResult:
    """``differ`` with the differences; else ``pending`` (with its reason) or ``agree``."""
    if differences:
        count = len(differences)
        state, summary = CheckState.DIFFER, f"{count} record{'s' if count != 1 else ''} differ"
    elif pending:
        state, summary = CheckState.PENDING, pending
    else:
        state, summary = CheckState.AGREE, agreed
    return CheckResult(
        check=check,
        location_id=location_id,
        business_date=business_date,
        state=state,
        summary=summary,
        differences=differences,
        **fields,  # type: ignore[arg-type]
    )


def amount_text(value: int, unit: Unit, currency: str = "") -> str:
    """``12.50 USD``, ``7:45 h`` or ``3``: how a manager reads an amount of ``unit``."""
    if unit is Unit.MINOR:
        return Money(value, currency or "USD").format()
    if unit is Unit.SECONDS:
        sign = "-" if value < 0 else ""
        hours, seconds = divmod(abs(value), 3600)
        return f"{sign}{hours}:{seconds // 60:02d} h"
    return str(value)


def plural(count: int, noun: str) -> str:
    """``1 order``, ``3 orders``, ``2 punches``."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun}{'es' if noun.endswith(('ch', 'sh', 's', 'x')) else 's'}"
