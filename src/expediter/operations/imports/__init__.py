"""Manual imports: what each kind of file holds and how its rows are checked.

The kinds, by the flow ``data`` they import: ``inventory_counts`` (count sheets), ``employees``
(the roster), ``menu_items``, ``recipes``, ``price_list`` (a vendor's) and ``invoice`` (vendor
invoices). :func:`kind_for` finds one; :mod:`expediter.engine.imports` runs them.
"""

from __future__ import annotations

from expediter.errors import ConfigError
from expediter.operations.imports.base import ImportContext, ImportKind, KeyRule, Parsed, Stored, Target
from expediter.operations.imports.counts import CountSheet
from expediter.operations.imports.employees import Roster
from expediter.operations.imports.invoices import Invoices
from expediter.operations.imports.menu import MenuItems
from expediter.operations.imports.prices import PriceList, PriceListItem
from expediter.operations.imports.recipes import Recipes
from expediter.operations.imports.rows import Cells, Column, Problem

KINDS: dict[str, type[ImportKind]] = {
    kind.data: kind for kind in (CountSheet, Roster, MenuItems, Recipes, PriceList, Invoices)
}

__all__ = [
    "KINDS",
    "Cells",
    "Column",
    "ImportContext",
    "ImportKind",
    "KeyRule",
    "Parsed",
    "PriceListItem",
    "Problem",
    "Stored",
    "Target",
    "kind_for",
]


def kind_for(data: str) -> type[ImportKind]:
    found = KINDS.get(data)
    if found is None:
        known = ", ".join(sorted(KINDS))
        raise ConfigError(f"importing {data!r} is not supported; a manual import reads {known}")
    return found
