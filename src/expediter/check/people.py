"""Checks that every flow can be run by a person: documented, owned by someone who can be
reached, and alerted the way its route says (repeats, escalation, drills).

A flow without a description or an impact gives an empty runbook page (``expediter docs flows``)
and an alert that says nothing about what it breaks; a flow whose contact is a name alone reaches
nobody at 19:00 on a Friday.
"""

from __future__ import annotations

from expediter.catalog.contacts import contact_kind
from expediter.catalog.problems import Problem
from expediter.catalog.schedule import schedule_problem
from expediter.catalog.schema import Catalog, Flow


def check_people(catalog: Catalog, file: str) -> list[Problem]:
    channels = {c.id for c in catalog.alert_channels}
    problems: list[Problem] = []
    for index, flow in enumerate(catalog.flows):
        problems += _flow_people(flow, f"$.flows[{index}]", file, channels)
    for index, route in enumerate(catalog.alert_routes):
        problems += _route_timing(
            route.id,
            route.repeat_minutes,
            route.escalate_to,
            route.escalate_after_minutes,
            f"$.alert_routes[{index}]",
            file,
            channels,
        )
    return problems


def _flow_people(flow: Flow, at: str, file: str, channels: set[str]) -> list[Problem]:
    def problem(key: str, message: str, fix: str) -> Problem:
        return Problem(file=file, where=f"{at}.{key}", subject=f"flow {flow.id}", message=message, fix=fix)

    found = []
    if not flow.description.strip():
        found.append(
            problem(
                "description",
                "the flow has no description (its runbook page and its alerts would say nothing about it)",
                'say what moves and why, e.g. description = "Every check rung in at the POS becomes'
                ' tickets on the station screens."',
            )
        )
    if not flow.impact.strip():
        found.append(
            problem(
                "impact",
                "the flow has no impact (its alerts could not say what breaks for the restaurant)",
                'say what stops when it stops, e.g. impact = "Cooks do not see new orders."',
            )
        )
    if contact_kind(flow.contact, channels) is None:
        shown = (
            f"contact {flow.contact!r} reaches nobody" if flow.contact.strip() else "the flow has no contact"
        )
        found.append(
            problem(
                "contact",
                f"{shown}: its owner ({flow.owner or 'nobody'}) cannot be reached when it breaks",
                'give an e-mail address or a phone number (contact = "chef@bistro.example"), or the id'
                f" of an [[alert_channels]] entry ({', '.join(sorted(channels)) or 'none declared'})",
            )
        )
    if flow.drill_schedule is not None and (refused := schedule_problem(flow.drill_schedule)) is not None:
        found.append(problem("drill_schedule", refused.message, refused.fix))
    if flow.volume_weeks < 0:
        found.append(
            problem(
                "volume_weeks", "volume_weeks is negative", "use 0 (not watched) or a number of weeks, e.g. 4"
            )
        )
    return found


def _route_timing(
    route_id: str,
    repeat_minutes: int,
    escalate_to: list[str],
    escalate_after: int,
    at: str,
    file: str,
    channels: set[str],
) -> list[Problem]:
    def problem(key: str, message: str, fix: str) -> Problem:
        return Problem(
            file=file, where=f"{at}.{key}", subject=f"alert route {route_id}", message=message, fix=fix
        )

    found = []
    if repeat_minutes < 0:
        found.append(
            problem(
                "repeat_minutes",
                "repeat_minutes is negative",
                "use 0 (send once) or the minutes between reminders, e.g. 60",
            )
        )
    if escalate_after <= 0:
        found.append(
            problem(
                "escalate_after_minutes",
                "escalate_after_minutes must be positive",
                "give the minutes to wait for an acknowledgement, e.g. 30",
            )
        )
    for name in escalate_to:
        if name not in channels:
            found.append(
                problem(
                    "escalate_to",
                    f"unknown alert channel {name!r}",
                    f"declare [[alert_channels]] id = {name!r}, or use one of: "
                    + (", ".join(sorted(channels)) or "(none declared)"),
                )
            )
    return found
