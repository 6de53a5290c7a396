"""Which connectors are installed, loaded one by one so that one broken module breaks only its systems.

:func:`expediter.plugin.registry.connector` raises for a connector that fails to load; ``expediter
check`` turns that into a problem of the systems using it (and says whether the connector's module is
missing from this install or broken), so it loads through here instead.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

import msgspec

from expediter.plugin.base import Connector
from expediter.plugin.registry import ENTRY_POINT_GROUP


class Unavailable(msgspec.Struct, frozen=True, kw_only=True):
    """A connector declared by an entry point whose module could not be loaded."""

    name: str
    reason: str
    missing_module: bool
    """True when the connector's own module does not exist (not built in this install)."""


@cache
def installed_connectors() -> dict[str, Connector | Unavailable]:
    """Every connector entry point by name: the :class:`Connector`, or why it is unavailable."""
    found: dict[str, Connector | Unavailable] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = _load(entry.name, entry.value)
    return found


def _load(name: str, target: str) -> Connector | Unavailable:
    module = target.split(":", 1)[0]
    try:
        loaded = EntryPoint(name=name, value=target, group=ENTRY_POINT_GROUP).load()
    except ModuleNotFoundError as exc:
        package = module.rsplit(".", 1)[0]
        own = exc.name is not None and (module.startswith(exc.name) or exc.name.startswith(package))
        return Unavailable(name=name, reason=f"{type(exc).__name__}: {exc}", missing_module=own)
    except Exception as exc:  # a broken connector must not hide the other problems
        return Unavailable(name=name, reason=f"{type(exc).__name__}: {exc}", missing_module=False)
    if not isinstance(loaded, Connector):
        return Unavailable(name=name, reason=f"{target} is not a Connector", missing_module=False)
    return loaded
