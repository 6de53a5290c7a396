"""Checks of systems (connectors, settings), alerting (channels, routes) and secrets.

Split from :mod:`expediter.catalog.check` to keep each module one concern: these checks look at what
the catalog points to outside itself (installed code, environment variables, files).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec

from expediter.catalog.installed import Unavailable, installed_connectors
from expediter.catalog.problems import Problem, Severity
from expediter.catalog.schema import Catalog, System
from expediter.catalog.secrets import (
    SecretUnavailable,
    is_reference,
    looks_secret,
    resolve_bus_servers,
    resolve_database,
    resolve_secret,
)
from expediter.connectors.base import (
    TRANSPORT_SETTINGS,
    Connector,
    ConnectorContext,
    SettingProblem,
    own_settings,
)

CHANNEL_KINDS = frozenset({"log", "email", "webhook", "slack"})
DEFAULT_ROUTE = "default"
_PG_PASSWORD = re.compile(r"^postgres(?:ql)?://[^/@:]+:(?P<password>[^@]+)@")


class Names(msgspec.Struct, frozen=True, kw_only=True):
    """The ids a catalog declares, per section, including entries that did not load (their own
    problems are reported; a reference to one is not "unknown" on top)."""

    systems: frozenset[str]
    locations: frozenset[str]
    alert_channels: frozenset[str]
    alert_routes: frozenset[str]

    @classmethod
    def of(cls, catalog: Catalog, undecoded: Mapping[str, set[str]]) -> Names:
        def ids(section: str, loaded: Iterable[str]) -> frozenset[str]:
            return frozenset(loaded) | frozenset(undecoded.get(section, ()))

        return cls(
            systems=ids("systems", (s.id for s in catalog.systems)),
            locations=ids("locations", (loc.id for loc in catalog.locations)),
            alert_channels=ids("alert_channels", (c.id for c in catalog.alert_channels)),
            alert_routes=ids("alert_routes", (r.id for r in catalog.alert_routes)),
        )


def check_systems(catalog: Catalog, file: str, names: Names | None = None) -> list[Problem]:
    problems: list[Problem] = []
    locations = set((names or Names.of(catalog, {})).locations)
    for index, system in enumerate(catalog.systems):
        at = f"$.systems[{index}]"
        problems += _system_basics(system, at, file, locations)
        problems += _system_connector(catalog, system, at, file)
    return problems


def _system_basics(system: System, at: str, file: str, locations: set[str]) -> list[Problem]:
    found = []
    subject = f"system {system.id}"
    if not system.owner.strip():
        found.append(
            Problem(
                file=file,
                where=f"{at}.owner",
                subject=subject,
                message="the system has no owner",
                fix='name who looks after it (a person or team): owner = "..."',
            )
        )
    for location_id in system.locations:
        if location_id not in locations:
            found.append(
                Problem(
                    file=file,
                    where=f"{at}.locations",
                    subject=subject,
                    message=f"unknown location {location_id!r}",
                    fix="use ids of [[locations]] entries, or leave `locations` out to mean every location",
                )
            )
    return found


def _system_connector(catalog: Catalog, system: System, at: str, file: str) -> list[Problem]:
    subject = f"system {system.id}"
    found = installed_connectors().get(system.connector)
    if found is None:
        names = ", ".join(sorted(installed_connectors())) or "(none)"
        return [
            Problem(
                file=file,
                where=f"{at}.connector",
                subject=subject,
                message=f"connector {system.connector!r} is not installed",
                fix=f"use one of the installed connectors ({names}) or install the package that provides it",
            )
        ]
    if isinstance(found, Unavailable):
        return [_unavailable(found, f"{at}.connector", subject, file)]
    return _settings_shape(catalog, found, system, at, file)


def _unavailable(found: Unavailable, where: str, subject: str, file: str) -> Problem:
    if found.missing_module:
        return Problem(
            file=file,
            where=where,
            subject=subject,
            message=f"connector {found.name!r} is declared but not built in this install ({found.reason})",
            fix="install a release that includes it, or choose another connector",
            severity=Severity.WARNING,
        )
    return Problem(
        file=file,
        where=where,
        subject=subject,
        message=f"connector {found.name!r} failed to load: {found.reason}",
        fix="reinstall expediter (or the connector's package); report the error if it persists",
    )


def _settings_shape(
    catalog: Catalog, connector: Connector, system: System, at: str, file: str
) -> list[Problem]:
    """The connector's own settings, and the ``transport`` table against the transport it names;
    each then by the connector's own :attr:`~Connector.check` when its shape is right."""
    problems = _shape(connector, own_settings(system), system, f"{at}.settings", file)
    if not problems:
        problems += connector_check(catalog, connector, system, system, f"{at}.settings", file)
    transport = system.settings.get(TRANSPORT_SETTINGS)
    if isinstance(transport, Mapping):
        problems += _transport_shape(catalog, transport, system, f"{at}.settings.{TRANSPORT_SETTINGS}", file)
    return problems


def _transport_shape(
    catalog: Catalog, transport: Mapping[str, Any], system: System, at: str, file: str
) -> list[Problem]:
    """A transport table fits the transport whose settings it looks like: SFTP/FTP (a host) or a
    folder (an inbox_dir); which one a flow uses is its own ``transport``."""
    name = "folder" if "host" not in transport else ("sftp" if "host_key" in transport else "ftp")
    found = installed_connectors().get(name)
    if not isinstance(found, Connector):
        return []
    problems = _shape(found, dict(transport), system, at, file)
    if not problems:
        carried = msgspec.structs.replace(system, settings=dict(transport))
        problems += connector_check(catalog, found, carried, system, at, file)
    return problems


def connector_check(
    catalog: Catalog, connector: Connector, settings_of: System, system: System, at: str, file: str
) -> list[Problem]:
    """What ``connector.check`` finds in ``settings_of``'s settings (``at`` is their path), as
    problems of ``system``; a check that fails is itself a problem, never a crash of ``check``."""
    if connector.check is None:
        return []
    subject = f"system {system.id}"
    context = ConnectorContext(catalog=catalog, system=settings_of)
    try:
        found: list[SettingProblem] = connector.check(context)
    except Exception as exc:  # a connector's bug must not hide the other problems
        message = (
            f"the {connector.name} connector could not check these settings: {type(exc).__name__}: {exc}"
        )
        fix = "report this with the settings (without secrets); the other problems are listed regardless"
        return [Problem(file=file, where=at, subject=subject, message=message, fix=fix)]
    return [
        Problem(file=file, where=f"{at}.{p.key}", subject=subject, message=p.message, fix=p.fix)
        for p in found
    ]


def _shape(
    connector: Connector, settings: Mapping[str, Any], system: System, at: str, file: str
) -> list[Problem]:
    if connector.settings_type is None:
        return []
    try:
        msgspec.convert(settings, connector.settings_type)
    except msgspec.ValidationError as exc:
        text = str(exc)
        inner = re.search(r" - at `\$(?P<path>[^`]*)`$", text)
        return [
            Problem(
                file=file,
                where=at + (inner["path"] if inner else ""),
                subject=f"system {system.id}",
                message=f"settings for connector {connector.name!r}: {re.sub(r' - at `[^`]*`$', '', text)}",
                fix=f"see docs/connectors/{connector.name}.md for this connector's settings",
            )
        ]
    return []


def check_alerting(catalog: Catalog, file: str, names: Names | None = None) -> list[Problem]:
    names = names or Names.of(catalog, {})
    problems: list[Problem] = []
    for index, channel in enumerate(catalog.alert_channels):
        problems += _channel_problems(channel.id, channel.kind, channel.target, channel.settings, index, file)
    channels = names.alert_channels
    for index, route in enumerate(catalog.alert_routes):
        for name in route.channels:
            if name not in channels:
                problems.append(
                    Problem(
                        file=file,
                        where=f"$.alert_routes[{index}].channels",
                        subject=f"alert route {route.id}",
                        message=f"unknown alert channel {name!r}",
                        fix=f"declare [[alert_channels]] id = {name!r}, or use one of: "
                        + (", ".join(sorted(channels)) or "(none declared)"),
                    )
                )
    routes = names.alert_routes
    for index, flow in enumerate(catalog.flows):
        if flow.alert_route not in routes and flow.alert_route != DEFAULT_ROUTE:
            problems.append(
                Problem(
                    file=file,
                    where=f"$.flows[{index}].alert_route",
                    subject=f"flow {flow.id}",
                    message=f"unknown alert route {flow.alert_route!r}",
                    fix='declare it under [[alert_routes]], or leave `alert_route` out to use "default"',
                )
            )
    return problems


def _channel_problems(
    ident: str, kind: str, target: str, settings: Mapping[str, Any], index: int, file: str
) -> list[Problem]:
    at = f"$.alert_channels[{index}]"

    def problem(key: str, message: str, fix: str) -> Problem:
        return Problem(
            file=file, where=f"{at}.{key}", subject=f"alert channel {ident}", message=message, fix=fix
        )

    if kind not in CHANNEL_KINDS:
        return [
            problem(
                "kind", f"unknown channel kind {kind!r}", 'use kind = "log", "email", "webhook" or "slack"'
            )
        ]
    found = []
    if kind == "email":
        if "@" not in target:
            found.append(
                problem("target", "an e-mail channel needs a recipient", 'target = "manager@example.com"')
            )
        if not settings.get("host"):
            found.append(
                problem(
                    "settings.host",
                    "an e-mail channel needs an SMTP host",
                    'settings.host = "smtp.example.com"',
                )
            )
        found += _email_settings_shape(settings, problem)
    if (
        kind in ("webhook", "slack")
        and not target.startswith(("http://", "https://"))
        and not is_reference(target)
    ):
        found.append(
            problem(
                "target",
                f"a {kind} channel needs a URL",
                'target = "env:ALERT_WEBHOOK_URL" (the URL is a credential: keep it out of the catalog)',
            )
        )
    return found


def _email_settings_shape(settings: Mapping[str, Any], problem: Any) -> list[Problem]:
    from expediter.monitor.channels import EmailSettings  # the channel owns its settings type

    if not settings.get("host"):
        return []  # reported above, with its own fix
    try:
        msgspec.convert(settings, EmailSettings)
    except msgspec.ValidationError as exc:
        text = str(exc)
        inner = re.search(r" - at `\$(?P<path>[^`]*)`$", text)
        key = "settings" + (inner["path"] if inner else "")
        message = re.sub(r" - at `[^`]*`$", "", text)
        return [problem(key, f"e-mail settings: {message}", "see docs/monitoring.md for the e-mail settings")]
    return []


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$|^[0-9A-Fa-f:]+$")
"""A DNS name, an IPv4 address, or an IPv6 address without brackets."""


def check_hub(catalog: Catalog, file: str) -> list[Problem]:
    found = []
    if not 0 < catalog.hub.port < 65536:
        found.append(
            Problem(
                file=file,
                where="$.hub.port",
                message=f"port {catalog.hub.port} is out of range",
                fix="use 1-65535, e.g. 8080",
            )
        )
    for index, name in enumerate(catalog.hub.allowed_hosts):
        if not _HOST_NAME.match(name):
            found.append(
                Problem(
                    file=file,
                    where=f"$.hub.allowed_hosts[{index}]",
                    subject="hub",
                    message=f"{name!r} is not a host name",
                    fix="give the bare name the hub is reached by (hub.example.com, 192.168.1.20),"
                    " without scheme, port or path",
                )
            )
    found.extend(_database_secret(catalog, file))
    found.extend(check_bus(catalog, file))
    password = _PG_PASSWORD.match(catalog.hub.database)
    if password and not is_reference(password["password"]):
        found.append(
            Problem(
                file=file,
                where="$.hub.database",
                message="the database URL has its password written inline",
                fix="drop the password from the URL and set it in the PGPASSWORD environment variable",
            )
        )
    return found


_NATS_URL = re.compile(r"^(nats|tls)://[^/\s,]+$")
_STREAM_PREFIX = re.compile(r"^[A-Za-z0-9_-]*$")
_SUBJECT_PREFIX = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_REPLICAS = 5
"""JetStream keeps at most five copies of a stream."""


def check_bus(catalog: Catalog, file: str) -> list[Problem]:
    """``[hub.bus]``: servers that resolve and look like NATS URLs, a token by reference, a replica
    count JetStream accepts, prefixes that are valid stream and subject names."""
    bus = catalog.hub.bus
    if bus is None:
        return []

    def problem(key: str, message: str, fix: str) -> Problem:
        return Problem(file=file, where=f"$.hub.bus.{key}", subject="hub bus", message=message, fix=fix)

    found = []
    try:
        servers = resolve_bus_servers(bus.url)
    except SecretUnavailable as exc:
        found.append(problem("url", f"the servers do not resolve: {exc}", "set that variable or file"))
        servers = None
    if servers is not None and not servers:
        found.append(
            problem(
                "url", "no server is named", 'list the cluster\'s servers: url = ["nats://nats-1:4222", ...]'
            )
        )
    for server in servers or []:
        if not _NATS_URL.match(server):
            shown = server.split("@")[-1]
            found.append(problem("url", f"{shown!r} is not a NATS server URL", "write nats://host:4222"))
    if bus.token and not is_reference(bus.token):
        found.append(problem("token", "the token is written inline", "use env:NAME or file:PATH"))
    elif bus.token:
        try:
            resolve_secret(bus.token, setting="hub.bus.token")
        except SecretUnavailable as exc:
            found.append(problem("token", str(exc), "set that variable or file before running the hub"))
    if not 1 <= bus.replicas <= MAX_REPLICAS:
        found.append(
            problem(
                "replicas",
                f"{bus.replicas} replicas is out of range",
                f"use 1 to {MAX_REPLICAS} (3 for a cluster of three)",
            )
        )
    elif servers and len(servers) < bus.replicas:
        found.append(
            Problem(
                file=file,
                where="$.hub.bus.replicas",
                subject="hub bus",
                message=f"{bus.replicas} replicas but {len(servers)} server(s) listed",
                fix="list every server of the cluster, or lower replicas to the cluster's size",
                severity=Severity.WARNING,
            )
        )
    if not _STREAM_PREFIX.match(bus.stream_prefix):
        found.append(
            problem(
                "stream_prefix",
                f"{bus.stream_prefix!r} cannot start a stream name",
                "use letters, digits, _ and -",
            )
        )
    if not _SUBJECT_PREFIX.match(bus.subject_prefix):
        found.append(
            problem(
                "subject_prefix",
                f"{bus.subject_prefix!r} is not one subject token",
                "use letters, digits, _ and -",
            )
        )
    if bus.duplicate_window <= 0:
        found.append(
            problem("duplicate_window", "the duplicate window must be positive", "use e.g. 120 (seconds)")
        )
    return found


def _database_secret(catalog: Catalog, file: str) -> list[Problem]:
    """A database named by a secret reference (or with its password one) must resolve."""
    try:
        resolve_database(catalog.hub.database)
    except SecretUnavailable as exc:
        return [
            Problem(
                file=file,
                where="$.hub.database",
                message=f"the database does not resolve: {exc}",
                fix="set that environment variable (or create that file) before running the hub",
            )
        ]
    return []


def check_secrets(catalog: Catalog, file: str, base_dir: Path | None) -> list[Problem]:
    """Each secret-looking setting must be a reference, and each reference must resolve."""
    places: list[tuple[str, str, Mapping[str, Any], frozenset[str]]] = []
    for index, system in enumerate(catalog.systems):
        places.append(
            (f"$.systems[{index}].settings", f"system {system.id}", system.settings, _secret_keys(system))
        )
    for index, flow in enumerate(catalog.flows):
        places.append((f"$.flows[{index}].settings", f"flow {flow.id}", flow.settings, frozenset()))
    for index, channel in enumerate(catalog.alert_channels):
        places.append(
            (
                f"$.alert_channels[{index}].settings",
                f"alert channel {channel.id}",
                channel.settings,
                frozenset(),
            )
        )
    problems = []
    for at, subject, settings, declared in places:
        for where, key, value in _walk(at, settings):
            problem = _secret_problem(where, key, value, subject, declared, file, base_dir)
            if problem is not None:
                problems.append(problem)
    for index, channel in enumerate(catalog.alert_channels):
        where, subject = f"$.alert_channels[{index}].target", f"alert channel {channel.id}"
        problem = _secret_problem(where, "target", channel.target, subject, frozenset(), file, base_dir)
        if problem is not None and is_reference(channel.target):
            problems.append(problem)
    return problems


def _secret_keys(system: System) -> frozenset[str]:
    found = installed_connectors().get(system.connector)
    return found.secret_settings if isinstance(found, Connector) else frozenset()


def _walk(at: str, settings: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for key, value in settings.items():
        if isinstance(value, Mapping):
            yield from _walk(f"{at}.{key}", value)
        else:
            yield f"{at}.{key}", key, value


def _secret_problem(
    where: str,
    key: str,
    value: Any,
    subject: str,
    declared: frozenset[str],
    file: str,
    base_dir: Path | None,
) -> Problem | None:
    if is_reference(value):
        try:
            resolve_secret(value, base_dir)
        except SecretUnavailable as exc:
            return Problem(
                file=file,
                where=where,
                subject=subject,
                message=f"secret `{key}` does not resolve: {exc}",
                fix="set that environment variable (or create that file) before running the hub",
            )
        return None
    if (key in declared or looks_secret(key)) and isinstance(value, str) and value:
        return Problem(
            file=file,
            where=where,
            subject=subject,
            message=f"`{key}` is a secret written inline in the catalog",
            fix=f'move it out: {key} = "env:SOME_NAME" (an environment variable) or "file:secrets/{key}"',
        )
    return None
