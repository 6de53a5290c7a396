"""Semantic checks of a loaded catalog: what msgspec's types cannot see.

Unknown systems in a flow, missing owners, duplicate ids, schedules the scheduler cannot run, time
zones, secrets that do not resolve, connectors that are not installed and what each one needs
(:attr:`~expediter.plugin.base.Connector.check`), files that no connector reads, a level that
does not fit its trigger or transport, alert routes naming unknown channels. Every problem says
where and how to fix it; nothing here prints a secret's value.

:func:`check_file` is what ``expediter check`` prints and what ``serve`` (and ``demo``) refuse to
start on: the structural problems of the file and the semantic ones of what loaded, in one list.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

import msgspec

from expediter.catalog.load import load_partial
from expediter.catalog.paths import anchor_to
from expediter.catalog.problems import CatalogError, Problem, Severity, errors
from expediter.catalog.schedule import schedule_problem
from expediter.catalog.schema import HEAL_SETTING, Catalog, Flow, HealPolicy, Level, Trigger, heal_policy
from expediter.catalog.secrets import TOKEN_FORM, hash_token
from expediter.check.edge import check_edge
from expediter.check.labor import check_labor
from expediter.check.people import check_people
from expediter.check.settings import (
    Names,
    check_alerting,
    check_hub,
    check_secrets,
    check_systems,
    installed_connectors,
)
from expediter.model.time import parse_day_start, zone
from expediter.plugin.base import Connector

LEVEL_TRIGGERS: dict[Level, frozenset[Trigger]] = {
    Level.REALTIME: frozenset({Trigger.EVENT}),
    Level.FILE: frozenset({Trigger.SCHEDULE, Trigger.FILE_ARRIVAL}),
    Level.MANUAL: frozenset({Trigger.MANUAL}),
}
LEVEL_TRANSPORTS: dict[Level, frozenset[str]] = {
    Level.REALTIME: frozenset({"http", "sse", "websocket", "tcp9100"}),
    Level.FILE: frozenset({"sftp", "ftp", "ftps", "folder", "email", "http"}),
    Level.MANUAL: frozenset({"upload", "download", "folder", "http"}),
}
TRANSPORTS = frozenset().union(*LEVEL_TRANSPORTS.values())
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Make(Protocol):
    """Builds one problem of the flow being checked."""

    def __call__(self, key: str, message: str, fix: str, severity: Severity = Severity.ERROR) -> Problem: ...


class Checked(msgspec.Struct, kw_only=True):
    """A catalog file as ``expediter check`` sees it, and ``serve`` and ``demo`` before they start."""

    catalog: Catalog | None
    """What loaded, its paths anchored beside the file as the hub runs it (``None``: unreadable)."""
    problems: list[Problem]
    """Every problem found: structural (each key that does not convert) and semantic."""

    @property
    def errors(self) -> list[Problem]:
        return errors(self.problems)


def check_file(path: str | Path) -> Checked:
    """Load ``path`` and check what loaded: one list of every problem, as ``check`` prints it.

    The entries that did not convert are still declared (a flow naming a system whose entry has a
    typo is not reported twice), and the checks see the catalog with its paths anchored as
    :func:`~expediter.catalog.paths.anchor_to` leaves them for the running hub."""
    file = Path(path)
    loaded = load_partial(file)
    if loaded.catalog is None:
        return Checked(catalog=None, problems=loaded.problems)
    folder = file.resolve().parent
    catalog = anchor_to(loaded.catalog, folder)
    found = check_catalog(catalog, folder, str(path), undecoded=loaded.undecoded)
    return Checked(catalog=catalog, problems=[*loaded.problems, *found])


def checked_catalog(path: str | Path) -> Catalog:
    """The catalog in ``path`` when ``check`` finds no error in it; :class:`CatalogError` with every
    error otherwise (what a process that runs the hub calls before it starts)."""
    checked = check_file(path)
    if checked.errors or checked.catalog is None:
        raise CatalogError(checked.errors)
    return checked.catalog


def check_catalog(
    catalog: Catalog,
    base_dir: Path | None = None,
    file: str = "expediter.toml",
    *,
    undecoded: Mapping[str, set[str]] | None = None,
) -> list[Problem]:
    """Every semantic problem in ``catalog``; ``undecoded`` holds, per section, the ids of entries
    that did not load (declared, so not "unknown"). ``base_dir`` is the catalog file's folder:
    relative paths (``file:`` secrets, the database, recipe books) are checked from there, as the
    running hub reads them (:func:`~expediter.catalog.paths.anchor_to`, on a copy)."""
    if base_dir is not None:
        catalog = anchor_to(copy.deepcopy(catalog), base_dir)
    names = Names.of(catalog, undecoded or {})
    problems: list[Problem] = []
    problems += check_duplicates(catalog, file)
    problems += check_locations(catalog, file)
    problems += check_labor(catalog, file)
    problems += check_systems(catalog, file, names)
    problems += check_flows(catalog, file, names)
    problems += check_alerting(catalog, file, names)
    problems += check_people(catalog, file)
    problems += check_tokens(catalog, file, names)
    problems += check_hub(catalog, file)
    problems += check_edge(catalog, file)
    problems += check_secrets(catalog, file, base_dir)
    return problems


def check_duplicates(catalog: Catalog, file: str) -> list[Problem]:
    sections: list[tuple[str, str, Iterable[str]]] = [
        ("locations", "id", (x.id for x in catalog.locations)),
        ("systems", "id", (x.id for x in catalog.systems)),
        ("flows", "id", (x.id for x in catalog.flows)),
        ("alert_channels", "id", (x.id for x in catalog.alert_channels)),
        ("alert_routes", "id", (x.id for x in catalog.alert_routes)),
        ("api_tokens", "name", (x.name for x in catalog.api_tokens)),
    ]
    return [problem for section, key, ids in sections for problem in _duplicates(file, section, key, ids)]


def _duplicates(file: str, section: str, key: str, ids: Iterable[str]) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, ident in enumerate(ids):
        if ident in seen:
            yield Problem(
                file=file,
                where=f"$.{section}[{index}].{key}",
                subject=f"{section.rstrip('s').replace('_', ' ')} {ident}",
                message=f"{key} {ident!r} is used twice (first at $.{section}[{seen[ident]}])",
                fix=f"give each entry of [[{section}]] its own {key}",
            )
        else:
            seen[ident] = index


def check_locations(catalog: Catalog, file: str) -> list[Problem]:
    problems = []
    for index, location in enumerate(catalog.locations):
        subject = f"location {location.id}"
        try:
            zone(location.timezone)
        except ValueError:
            problems.append(
                Problem(
                    file=file,
                    where=f"$.locations[{index}].timezone",
                    subject=subject,
                    message=f"unknown time zone {location.timezone!r}",
                    fix="use an IANA time zone name such as 'America/New_York' or 'Europe/Paris'",
                )
            )
        try:
            parse_day_start(location.day_start)
        except ValueError:
            problems.append(
                Problem(
                    file=file,
                    where=f"$.locations[{index}].day_start",
                    subject=subject,
                    message=f"day_start {location.day_start!r} is not a local time HH:MM",
                    fix='write the moment one business day becomes the next, e.g. day_start = "04:00"',
                )
            )
    return problems


def check_flows(catalog: Catalog, file: str, names: Names | None = None) -> list[Problem]:
    problems: list[Problem] = []
    for index, flow in enumerate(catalog.flows):
        problems += flow_problems(catalog, flow, f"$.flows[{index}]", file, names)
    return problems


def flow_problems(
    catalog: Catalog, flow: Flow, at: str, file: str, names: Names | None = None
) -> list[Problem]:
    """The problems of one flow; ``at`` is its path (``$.flows[3]``)."""

    def problem(key: str, message: str, fix: str, severity: Severity = Severity.ERROR) -> Problem:
        return Problem(
            file=file,
            where=f"{at}.{key}",
            subject=f"flow {flow.id}",
            message=message,
            fix=fix,
            severity=severity,
        )

    found: list[Problem] = []
    if not flow.owner.strip():
        found.append(
            problem("owner", "the flow has no owner", 'name who fixes it when it breaks: owner = "..."')
        )
    found += _flow_ends(catalog, flow, problem, names or Names.of(catalog, {}))
    found += _flow_reader(catalog, flow, problem)
    found += _flow_level(flow, problem)
    found += _flow_schedule(flow, problem)
    found += _flow_numbers(flow, problem)
    found += _flow_heal(flow, problem)
    return found


def _flow_heal(flow: Flow, problem: _Make) -> list[Problem]:
    if HEAL_SETTING not in flow.settings:
        return []
    try:
        heal_policy(flow)
    except ValueError:
        choices = ", ".join(f'"{p}"' for p in HealPolicy)
        return [
            problem(
                f"settings.{HEAL_SETTING}",
                f"unknown heal policy {flow.settings[HEAL_SETTING]!r}",
                f"use one of {choices} (what to do with a night whose inputs changed after it went out)",
            )
        ]
    return []


def _flow_ends(catalog: Catalog, flow: Flow, problem: _Make, names: Names) -> list[Problem]:
    found = []
    known = ", ".join(s.id for s in catalog.systems) or "(none declared)"
    for key, system_id in (("from", flow.from_), ("to", flow.to)):
        if system_id not in names.systems:
            found.append(
                problem(
                    key,
                    f"unknown system {system_id!r} in `{key}`",
                    f"use the id of a [[systems]] entry ({known}), or declare {system_id!r}",
                )
            )
    if flow.from_ == flow.to and not brings_files_in(flow):
        found.append(
            problem(
                "to",
                "the flow goes from a system to itself",
                "set `to` to another system (only a flow that brings files into the hub, a manual"
                ' upload or trigger = "file_arrival", may start and end at one system)',
            )
        )
    return found


def brings_files_in(flow: Flow) -> bool:
    """Whether the flow brings files into the hub: a watched transport, or a person's upload.
    Such a flow may start and end at one system: the chef's count sheets, ``from`` and ``to`` the
    inventory system, are kept by the hub for that system's own reports."""
    return flow.trigger == Trigger.FILE_ARRIVAL or (flow.level == Level.MANUAL and flow.transport == "upload")


HUB_IMPORTS = frozenset({"inventory_counts", "employees", "menu_items", "recipes", "price_list", "invoice"})
"""What ``expediter import`` reads itself, whatever the connectors (the kinds of
:mod:`expediter.operations.imports`; a test holds the two equal)."""


def _flow_reader(catalog: Catalog, flow: Flow, problem: _Make) -> list[Problem]:
    """A flow bringing files in needs a connector at one of its ends that reads them (a person's
    upload of what the hub imports itself needs none)."""
    if not flow.enabled or not brings_files_in(flow):
        return []
    if flow.level is Level.MANUAL and flow.data in HUB_IMPORTS:
        return []
    ends = [
        s for s in {flow.to: catalog.system(flow.to), flow.from_: catalog.system(flow.from_)}.values() if s
    ]
    found = [installed_connectors().get(s.connector) for s in ends]
    known = [c for c in found if isinstance(c, Connector)]
    if len(known) < len(ends):
        return []  # an unknown or broken connector is its system's problem, reported there
    if any(c.make_importer is not None and (not c.reads or flow.data in c.reads) for c in known):
        return []
    readers = [f"the {c.name} connector reads {', '.join(sorted(c.reads))}" for c in known if c.reads]
    return [
        problem(
            "data",
            f"nothing reads {flow.data!r} files (format {flow.format!r}): "
            + ("; ".join(readers) if readers else "no connector at either end reads files"),
            "disable the flow (enabled = false) until a connector that reads these files is installed,"
            " or send them to a system whose connector reads them",
        )
    ]


def _flow_level(flow: Flow, problem: _Make) -> list[Problem]:
    found = []
    triggers = LEVEL_TRIGGERS[flow.level]
    if flow.trigger not in triggers:
        allowed = " or ".join(sorted(triggers))
        found.append(
            problem(
                "trigger",
                f"a {flow.level} flow cannot have trigger '{flow.trigger}'",
                f"use trigger = {allowed}, or change the level"
                + (' (a scheduled poll is level = "file")' if flow.trigger == Trigger.SCHEDULE else ""),
            )
        )
    if flow.transport not in TRANSPORTS:
        found.append(
            problem(
                "transport",
                f"unknown transport {flow.transport!r}",
                f"use one of: {', '.join(sorted(TRANSPORTS))}",
            )
        )
    elif flow.transport not in LEVEL_TRANSPORTS[flow.level]:
        found.append(
            problem(
                "transport",
                f"a {flow.level} flow cannot move over {flow.transport!r}",
                f"use one of: {', '.join(sorted(LEVEL_TRANSPORTS[flow.level]))}, or change the level",
            )
        )
    return found


def _flow_schedule(flow: Flow, problem: _Make) -> list[Problem]:
    found = []
    if flow.trigger == Trigger.SCHEDULE:
        if not flow.schedule:
            found.append(
                problem(
                    "schedule",
                    "a scheduled flow has no schedule",
                    'add a cron expression in the location\'s time zone, e.g. schedule = "30 4 * * *"',
                )
            )
        elif (refused := schedule_problem(flow.schedule)) is not None:
            found.append(problem("schedule", refused.message, refused.fix))
    elif flow.schedule:
        found.append(
            problem(
                "schedule",
                f"a schedule is set but the trigger is '{flow.trigger}', so it is never used",
                'remove `schedule`, or set trigger = "schedule"',
            )
        )
    if flow.expected_by is not None and not _HH_MM.match(flow.expected_by):
        found.append(
            problem(
                "expected_by",
                f"expected_by {flow.expected_by!r} is not a local time HH:MM",
                'write the local time by which the run must have succeeded, e.g. expected_by = "06:00"',
            )
        )
    return found


def _flow_numbers(flow: Flow, problem: _Make) -> list[Problem]:
    found = []
    if flow.retry_limit is not None and flow.retry_limit < 0:
        found.append(problem("retry_limit", "retry_limit is negative", "use 0 (never retry) or more"))
    if flow.retry_hours <= 0:
        found.append(
            problem("retry_hours", "retry_hours must be positive", "give the hours to keep retrying, e.g. 72")
        )
    if flow.freshness_minutes is not None and flow.freshness_minutes <= 0:
        found.append(
            problem(
                "freshness_minutes",
                "freshness_minutes must be positive",
                "give the minutes without data after which to alert, e.g. 30, or remove the key",
            )
        )
    return found


def check_tokens(catalog: Catalog, file: str, names: Names | None = None) -> list[Problem]:
    known = names or Names.of(catalog, {})
    systems = known.systems
    problems = []
    for index, token in enumerate(catalog.api_tokens):
        subject = f"api token {token.name}"
        if not TOKEN_FORM.match(token.sha256):
            problems.append(
                Problem(
                    file=file,
                    where=f"$.api_tokens[{index}].sha256",
                    subject=subject,
                    message="the token is not stored as sha256:<64 lowercase hex digits>",
                    fix="store the token's hash, never the token: python -c \"import hashlib;"
                    " print('sha256:' + hashlib.sha256(b'YOUR-TOKEN').hexdigest())\""
                    f" (gives e.g. {hash_token('example')[:16]}...)",
                )
            )
        for system_id in token.systems:
            if system_id not in systems:
                problems.append(
                    Problem(
                        file=file,
                        where=f"$.api_tokens[{index}].systems",
                        subject=subject,
                        message=f"unknown system {system_id!r}",
                        fix="list ids of [[systems]] entries this token may post as",
                    )
                )
        for location_id in token.locations:
            if location_id not in known.locations:
                problems.append(
                    Problem(
                        file=file,
                        where=f"$.api_tokens[{index}].locations",
                        subject=subject,
                        message=f"unknown location {location_id!r}",
                        fix="list ids of [[locations]] entries this token may send for (none: every one)",
                    )
                )
    return problems
