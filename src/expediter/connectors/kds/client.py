"""The KDS sink: hands each order to the hub's kitchen service (:class:`~expediter.plugin.KitchenService`).

The kitchen turns redeliveries and older versions into no-ops (stable ticket ids, version check), so
the engine's at-least-once delivery shows each ticket once. The sink answers once the kitchen
decided (``Receipt.settled`` completes once the tickets are on disk): a lane's next order is
decided while the previous one commits, and the delivery is saved as delivered only after it.
"""

from __future__ import annotations

import sqlite3

from expediter.connectors.kds.mapping import order_from
from expediter.plugin import KitchenService, Outbound, Receipt, TransientError


class KdsSink:
    def __init__(self, kitchen: KitchenService) -> None:
        self.kitchen = kitchen

    async def deliver(self, item: Outbound) -> Receipt:
        order = order_from(item)
        try:
            changed, settled = await self.kitchen.take(order)
        except sqlite3.OperationalError as exc:
            raise TransientError(f"kitchen store busy: {exc}") from exc
        if not changed:
            return Receipt(
                records=0,
                bytes=len(item.payload),
                remote_ref=f"kds:{order.id} v{order.version} already shown",
                settled=settled,
            )
        return Receipt(
            records=len(changed),
            bytes=len(item.payload),
            remote_ref="kds:" + ",".join(t.id for t in changed),
            settled=settled,
        )
