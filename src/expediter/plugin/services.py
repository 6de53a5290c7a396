"""The hub's shared services as a connector sees them (``ctx.services``).

Each named service is typed by what connectors use of it, a :class:`~typing.Protocol` that the hub's
own implementation (the kitchen, the inbox's order versions) satisfies; a connector never imports the
implementation. Services a plugin brings itself, and test stand-ins, live in :attr:`Services.extra`
under a name of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import httpx

    from expediter.model.kitchen import Printed, RoutingRules
    from expediter.model.order import Order


@runtime_checkable
class AvailabilityService(Protocol):
    def is_available(self, location_id: str, plu_or_item_id: str) -> bool:
        """False while the item is 86'd at the location."""
        ...


@runtime_checkable
class OrderVersionsService(Protocol):
    async def latest_version(self, source_system: str, external_id: str) -> int | None:
        """The newest version of an external order the hub holds, ``None`` when it has none."""
        ...


class ShownTicket(Protocol):
    """A ticket the kitchen put on a station's screen."""

    @property
    def id(self) -> str: ...


class PrintedTickets(Protocol):
    """What the kitchen keeps of what each printer printed, so a newer version prints only the change."""

    async def printed(self, printer: str, order_id: str) -> Printed | None: ...

    async def record_printed(self, printed: Printed) -> None: ...


@runtime_checkable
class KitchenService(Protocol):
    """The hub's kitchen, as its screens' sink (``kds``) and its printers (``escpos``) use it."""

    @property
    def rules(self) -> RoutingRules:
        """Which station cooks which item."""
        ...

    @property
    def store(self) -> PrintedTickets: ...

    async def receive(self, order: Order) -> Sequence[ShownTicket]:
        """Route a version of an order to the stations; the tickets it changed (none: already shown)."""
        ...

    async def take(self, order: Order) -> tuple[Sequence[ShownTicket], Awaitable[Sequence[ShownTicket]]]:
        """:meth:`receive` answered once decided: the tickets it changes, and an awaitable that
        completes once they are on disk (or fails: the order goes again)."""
        ...

    def screens_online(self, station: str) -> int:
        """How many screens of the station are connected now."""
        ...


@dataclass
class Services:
    """Shared engine services; connectors take what they need and fail clearly when it is missing."""

    kitchen: KitchenService | None = None
    """The built-in kitchen (screens, printers), while a system offers kitchen screens."""
    availability: AvailabilityService | None = None
    """What is 86'd (the kitchen, when it runs)."""
    order_versions: OrderVersionsService | None = None
    """The newest version of each external order the hub holds."""
    http_transport: httpx.AsyncBaseTransport | None = None
    """An ``httpx`` transport that replaces the network for HTTP connectors (tests, the demo)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Other services by name: a plugin's own, the vendor desk's numbers, test stand-ins."""
