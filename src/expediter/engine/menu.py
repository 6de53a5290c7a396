"""The hub's menu, as the kitchen routes by it.

A hub holds its menu as inbox messages of kind ``menu_items`` (ref: the item id, payload: a
:class:`~expediter.model.menu.MenuItem`), put there by a menu import
(:mod:`expediter.operations.imports.menu`) or sent down by a restaurant's group
(:mod:`expediter.edge.links`); the newest of each item at each location is the menu. The kitchen
is told the whole menu at start (:func:`route_by_menu`) and each change as it is stored
(:func:`menu_changed`), so that a line whose order names no stations goes to its item's stations.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
import structlog

from expediter.engine.hub import Hub
from expediter.engine.messages import every_of_kind
from expediter.model.menu import MenuItem
from expediter.storage.base import Tx

MENU_KIND = "menu_items"
log = structlog.get_logger(__name__)


def current_menu(tx: Tx) -> dict[str, list[MenuItem]]:
    """Location → the newest stored version of each of its items."""
    menu: dict[str, dict[str, MenuItem]] = {}
    for row in every_of_kind(tx, MENU_KIND):
        try:
            item = msgspec.json.decode(bytes(row["payload"]), type=MenuItem)
        except msgspec.DecodeError as exc:  # never routable: the rest of the menu still is
            log.warning("menu item not readable", ref=row["ref"], error=str(exc))
            continue
        menu.setdefault(row["location_id"] or "", {})[item.id] = item
    return {location: list(items.values()) for location, items in menu.items()}


async def route_by_menu(hub: Hub) -> None:
    """Tell the hub's kitchen (when it runs one) the whole stored menu."""
    if hub.services.kitchen is None:
        return
    for location, items in (await hub.storage.read(current_menu)).items():
        hub.services.kitchen.use_menu(location, items)


def menu_changed(hub: Hub, location_id: str | None, items: Iterable[MenuItem]) -> None:
    """Items just stored for the location: the kitchen routes by them from the next order on."""
    if hub.services.kitchen is not None:
        hub.services.kitchen.use_menu(location_id or "", items)
