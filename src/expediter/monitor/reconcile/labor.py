"""POS punches = payroll hours: the hours the time clock recorded, as the labor and payroll files
carried them.

The POS's side is every punch clocked in on the business date as the hub holds it now (the newest
version of each). Each labor or payroll file's side is the punch versions it was built from (its
lineage). A punch corrected after the file went out, one that arrived late, or one still open
(nobody clocked out: no hours to pay) shows as a record that differs, with each side's hours.
A payroll file that has not covered the day yet (the pay period is open) is not compared.
"""

from __future__ import annotations

from datetime import date

import msgspec

from expediter.errors import ExpediterError
from expediter.model.labor import TimePunch
from expediter.model.location import Location
from expediter.monitor.reconcile.common import amount_text, plural, verdict
from expediter.monitor.reconcile.model import CheckName, CheckResult, Difference, Unit
from expediter.operations.labor.hours import worked_seconds

POS = "pos"


class SentPunches(msgspec.Struct, kw_only=True):
    """One labor or payroll flow's file covering the day, and the punch versions it carried."""

    flow_id: str
    data: str
    """``labor`` (nightly) or ``payroll`` (the pay period)."""
    sent: bool
    due: bool = True
    punches: list[TimePunch] = []


class LaborFacts(msgspec.Struct, kw_only=True):
    location: Location
    business_date: date
    punches: list[TimePunch]
    """Punches clocked in on the day, newest versions, as the hub holds them now."""
    files: list[SentPunches]


def seconds_of(punch: TimePunch) -> int | None:
    """Paid seconds of a punch; ``None`` while it is open (or when it cannot be counted)."""
    if punch.clock_out is None:
        return None
    try:
        return worked_seconds(punch)
    except ExpediterError:
        return None


def newest(punches: list[TimePunch]) -> dict[str, TimePunch]:
    found: dict[str, TimePunch] = {}
    for punch in punches:
        known = found.get(punch.id)
        if known is None or punch.version >= known.version:
            found[punch.id] = punch
    return found


def check_labor(facts: LaborFacts) -> CheckResult:
    pos = newest(facts.punches)
    differences = [_open(p) for p in pos.values() if seconds_of(p) is None]
    sides = {_label(f, facts.files): f for f in facts.files}
    differences += [
        Difference(record=f.flow_id, problem=f"no {label} file went out for {facts.business_date}")
        for label, f in sides.items()
        if not f.sent and f.due
    ]
    totals = {POS: sum(seconds_of(p) or 0 for p in pos.values())}
    for label, file in sides.items():
        if file.sent:
            theirs = newest(file.punches)
            totals[label] = sum(seconds_of(p) or 0 for p in theirs.values())
            differences += _punch_differences(pos, theirs, label)
    compared = any(f.sent for f in sides.values())
    return verdict(
        CheckName.LABOR,
        facts.location.id,
        facts.business_date,
        differences,
        agreed=f"{plural(len(pos), 'punch')}, {amount_text(totals[POS], Unit.SECONDS)} everywhere",
        pending="" if compared or not sides else "no labor or payroll file covers the day yet",
        flow_id=_flow_of(differences, sides),
        unit=Unit.SECONDS,
        totals=totals,
    )


def _label(file: SentPunches, files: list[SentPunches]) -> str:
    same = [f for f in files if f.data == file.data]
    return file.data if len(same) == 1 else f"{file.data} ({file.flow_id})"


def _open(punch: TimePunch) -> Difference:
    return Difference(
        record=punch.id,
        problem=f"{punch.employee_id} is still clocked in (since"
        f" {punch.clock_in.isoformat(timespec='minutes')}): no hours to pay; clock them out in the POS",
        values={POS: 0},
    )


def _punch_differences(
    pos: dict[str, TimePunch], theirs: dict[str, TimePunch], label: str
) -> list[Difference]:
    found = []
    for punch_id in sorted(set(pos) | set(theirs)):
        now, sent = pos.get(punch_id), theirs.get(punch_id)
        mine = seconds_of(now) if now is not None else None
        their = seconds_of(sent) if sent is not None else None
        if now is not None and mine is None:
            continue  # open: listed once already
        if mine == their:
            continue
        if sent is None:
            problem = f"missing from the {label} file"
        elif now is None:
            problem = f"in the {label} file, not among the POS's punches of the day"
        else:
            problem = f"the {label} file has version {sent.version}, the POS version {now.version}"
        found.append(Difference(record=punch_id, problem=problem, values={POS: mine or 0, label: their or 0}))
    return found


def _flow_of(differences: list[Difference], sides: dict[str, SentPunches]) -> str:
    for difference in differences:
        for label, file in sides.items():
            if difference.record == file.flow_id or label in difference.values:
                return file.flow_id
    return next((file.flow_id for file in sides.values()), "")
