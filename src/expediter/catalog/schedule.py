"""What a flow's ``schedule`` is: the one reading that ``expediter check`` and the scheduler share.

A schedule is a cron expression of five fields (minute hour day-of-month month day-of-week) on the
location's wall clock, or one of the nicknames ``@hourly``, ``@daily`` (``@midnight``), ``@weekly``,
``@monthly``, ``@yearly`` (``@annually``), which stand for their five-field equivalents. Cron with
a seconds or a year field, ``@reboot``, and expressions that name no real date (``0 0 31 2 *``) are
refused here, so a catalog that checks clean is one the scheduler runs.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from croniter import CroniterBadDateError, croniter

NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
FIELDS = 5
EXAMPLE_FIX = 'write five fields: minute hour day-of-month month day-of-week, e.g. "30 4 * * *"'
_PROBE = datetime(2000, 1, 1)
"""Any instant does: an expression that can occur at all occurs within a leap-year cycle of it."""


class ScheduleError(ValueError):
    """A schedule the hub cannot run; ``message`` says why, ``fix`` how to write it."""

    def __init__(self, message: str, fix: str = EXAMPLE_FIX) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@lru_cache(maxsize=256)
def cron_expression(schedule: str) -> str:
    """The five-field cron expression ``schedule`` stands for; :class:`ScheduleError` otherwise."""
    text = " ".join(schedule.split())
    if text.startswith("@"):
        return _nickname(text)
    fields = len(text.split())
    if fields != FIELDS:
        raise ScheduleError(
            f"{schedule!r} is not a valid cron expression: it has {fields} field(s), a schedule has five"
            + _extra(fields)
        )
    if not croniter.is_valid(text):
        raise ScheduleError(f"{schedule!r} is not a valid cron expression")
    try:
        croniter(text, _PROBE).get_next(datetime)
    except CroniterBadDateError:
        raise ScheduleError(
            f"{schedule!r} never happens: no month has that day",
            fix='use days that exist in the months named, e.g. "0 5 28 2 *" or "0 5 L * *" (last day)',
        ) from None
    return text


def _nickname(text: str) -> str:
    found = NICKNAMES.get(text.lower())
    if found is None:
        names = ", ".join(NICKNAMES)
        raise ScheduleError(
            f"{text!r} is not a schedule the hub runs",
            fix=f'use one of {names}, or five cron fields such as "30 4 * * *"',
        )
    return found


def _extra(fields: int) -> str:
    if fields == FIELDS + 1:
        return " (Expediter schedules have no seconds field: runs start on the minute)"
    if fields == FIELDS + 2:
        return " (Expediter schedules have no seconds or year field)"
    return ""


def schedule_problem(schedule: str) -> ScheduleError | None:
    """Why ``schedule`` cannot run, or ``None`` when it can."""
    try:
        cron_expression(schedule)
    except ScheduleError as exc:
        return exc
    return None
