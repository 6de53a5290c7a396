"""Finds connectors through the ``expediter.connectors`` entry point (bundled ones included).

Each connector is loaded on its own, when first asked for: one broken or missing connector module
breaks only the systems that use it, never the others (``expediter check`` reports it as a problem
of those systems; the engine dead-letters their deliveries with the reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from expediter.plugin.base import Capability, Connector

if TYPE_CHECKING:
    from expediter.catalog.schema import Catalog, System

Lookup = Callable[[str], Connector | None]
"""Finds a connector by name (:func:`connector`, or a hub's, which adds its overrides)."""

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


def loadable(name: str, lookup: Lookup = connector) -> Connector | None:
    """The connector ``name``, or ``None`` when it is missing *or fails to load*: for questions asked
    of every connector (which one moves ``ftps`` files?), where a broken one offers nothing (its own
    systems fail with the reason, and ``expediter check`` reports it)."""
    try:
        return lookup(name)
    except Exception:  # an entry point may fail in any way its module can
        return None


def file_transports(names_: Iterable[str] | None = None, lookup: Lookup = connector) -> dict[str, Connector]:
    """Every flow ``transport`` name (``sftp``, ``ftps``, ``folder``) with the connector that moves
    its files (:attr:`Connector.transports`), over the installed connectors (or ``names_``)."""
    found: dict[str, Connector] = {}
    for name in sorted(names() if names_ is None else names_):
        if (loaded := loadable(name, lookup)) is not None:
            found.update(dict.fromkeys(loaded.transports, loaded))
    return found


def systems_offering(catalog: Catalog, capability: Capability, lookup: Lookup = connector) -> list[System]:
    """The catalog's systems whose connector offers ``capability`` (e.g. the kitchen's screens)."""
    return [
        system
        for system in catalog.systems
        if (found := loadable(system.connector, lookup)) is not None and capability in found.capabilities
    ]
