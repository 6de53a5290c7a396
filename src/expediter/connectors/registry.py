"""Finds connectors through the ``expediter.connectors`` entry point (bundled ones included)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from expediter.connectors.base import Connector

ENTRY_POINT_GROUP = "expediter.connectors"


@cache
def connectors() -> dict[str, Connector]:
    """Every installed connector by name. Each entry point names a module attribute holding a
    :class:`Connector`."""
    found: dict[str, Connector] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        connector = entry.load()
        if not isinstance(connector, Connector):
            raise TypeError(f"entry point {entry.name!r} is not a Connector: {connector!r}")
        found[connector.name] = connector
    return found


def connector(name: str) -> Connector | None:
    return connectors().get(name)
