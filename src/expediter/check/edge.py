"""``[edge]`` and ``[group_edges]`` held against the catalog: a restaurant edge names a declared
location (whose id is usable in NATS names), dials a leaf URL, keeps its token by reference, and
runs no group bus of its own; the group watches declared locations on a NATS URL."""

from __future__ import annotations

import re

from expediter.catalog.problems import Problem
from expediter.catalog.schema import Catalog
from expediter.catalog.secrets import is_reference

_LEAF_URL = re.compile(r"^(nats-leaf|tls)://[^/\s,]+:\d+$")
_NATS_URL = re.compile(r"^(nats|tls)://[^/\s,]+$")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def check_edge(catalog: Catalog, file: str) -> list[Problem]:
    return _edge_problems(catalog, file) + _group_problems(catalog, file)


def _problem(where: str, subject: str, message: str, fix: str, file: str) -> Problem:
    return Problem(file=file, where=where, subject=subject, message=message, fix=fix)


def _edge_problems(catalog: Catalog, file: str) -> list[Problem]:
    edge = catalog.edge
    if edge is None:
        return []
    found = []
    if catalog.location(edge.location) is None:
        found.append(
            _problem(
                "$.edge.location", "edge", f"no location {edge.location!r}", "name a declared location", file
            )
        )
    elif not _NAME.match(edge.location):
        found.append(
            _problem(
                "$.edge.location",
                "edge",
                f"{edge.location!r} cannot be part of a NATS stream or domain name",
                "give the location an id of letters, digits, _ and -",
                file,
            )
        )
    if not _LEAF_URL.match(edge.group_url):
        found.append(
            _problem(
                "$.edge.group_url",
                "edge",
                f"{edge.group_url!r} is not a leaf node URL",
                "write nats-leaf://group.example:7422 (tls://... for TLS)",
                file,
            )
        )
    if edge.group_token and not is_reference(edge.group_token):
        found.append(
            _problem(
                "$.edge.group_token", "edge", "the token is written inline", "use env:NAME or file:PATH", file
            )
        )
    if catalog.hub.bus is not None:
        found.append(
            _problem(
                "$.hub.bus",
                "edge",
                "a restaurant edge runs its bus on its own NATS server, not the group's",
                "remove [hub.bus] from the restaurant's catalog; the group's hub has it",
                file,
            )
        )
    if edge.heartbeat_seconds <= 0:
        found.append(_problem("$.edge.heartbeat_seconds", "edge", "must be more than 0", "e.g. 5", file))
    return found


def _group_problems(catalog: Catalog, file: str) -> list[Problem]:
    group = catalog.group_edges
    if group is None:
        return []
    found = []
    if not _NATS_URL.match(group.nats_url):
        found.append(
            _problem(
                "$.group_edges.nats_url",
                "group edges",
                f"{group.nats_url!r} is not a NATS URL",
                "write nats://nats-1:4222",
                file,
            )
        )
    for index, location in enumerate(group.locations):
        if catalog.location(location) is None:
            found.append(
                _problem(
                    f"$.group_edges.locations[{index}]",
                    "group edges",
                    f"no location {location!r}",
                    "name a declared location",
                    file,
                )
            )
    if group.offline_after_seconds <= 0:
        found.append(
            _problem(
                "$.group_edges.offline_after_seconds", "group edges", "must be more than 0", "e.g. 15", file
            )
        )
    return found
