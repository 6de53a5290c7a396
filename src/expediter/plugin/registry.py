"""Finds connectors through the ``expediter.connectors`` entry point (bundled ones included).

Each connector is loaded on its own, when first asked for: one broken or missing connector module
breaks only the systems that use it, never the others (``expediter check`` reports it as a problem
of those systems; the engine dead-letters their deliveries with the reason).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from expediter.plugin.base import Connector

ENTRY_POINT_GROUP = "expediter.connectors"


def names() -> list[str]:
    """Every connector name an installed package declares."""
    return sorted(entry.name for entry in entry_points(group=ENTRY_POINT_GROUP))


@cache
def connector(name: str) -> Connector | None:
    """The connector ``name``, or ``None`` when no package declares it. An entry point that fails to
    load raises (``ImportError``), and one that names something else raises ``TypeError``."""
    for entry in entry_points(group=ENTRY_POINT_GROUP, name=name):
        loaded = entry.load()
        if not isinstance(loaded, Connector):
            raise TypeError(f"entry point {entry.name!r} is not a Connector: {loaded!r}")
        return loaded
    return None


def connectors() -> dict[str, Connector]:
    """Every installed connector by name (loads them all; a broken one raises)."""
    return {name: found for name in names() if (found := connector(name)) is not None}
