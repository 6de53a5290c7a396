"""The demo's distributor (Valley Foods): reads the purchase order the hub left on its SFTP server,
answers with an 855 at once and, "the next day" (a minute later on the demo's clock), an 810 with
one substitution, one short and one price change, which the dashboard shows as exceptions.

Also writes the morning's count sheet, so the afternoon's purchase order has something to order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import structlog

from expediter.engine.hub import Hub
from expediter.formats.x12 import read_documents
from expediter.model.vendors import PurchaseOrder
from expediter.operations.inventory.recipes import Ingredient
from expediter.plugin.base import IncomingMessage
from expediter.sim.distributor import ack_855, demo_changes, distributor_file, invoice_810

log = structlog.get_logger(__name__)
COUNTS_KIND = "inventory_counts"


def count_sheet(ingredients: Iterable[Ingredient], share: Decimal = Decimal("0.3")) -> bytes:
    """Every ingredient with a par at ``share`` of it: low enough that the order has lines."""
    rows = ["ingredient,unit,quantity"]
    for ingredient in ingredients:
        if ingredient.par is not None:
            rows.append(
                f"{ingredient.id},{ingredient.unit.value},{(ingredient.par * share).quantize(Decimal(1))}"
            )
    return ("\n".join(rows) + "\n").encode()


async def store_counts(hub: Hub, location_id: str, day: date, sheet: bytes) -> None:
    message = IncomingMessage(
        source_system="inventory",
        kind=COUNTS_KIND,
        idempotency_key=f"demo-counts:{location_id}:{day.isoformat()}",
        payload=sheet,
        content_type="text/csv",
        location_id=location_id,
    )
    await hub.inbox.accept(message, ref=f"{location_id}:{day.isoformat()}", business_date=day, processed=True)


def _orders(inbound: Path) -> list[tuple[Path, PurchaseOrder]]:
    found = []
    for path in sorted(inbound.glob("850_*.edi")):
        for document in read_documents(path.read_bytes()).documents:
            if document.purchase_order is not None:
                found.append((path, document.purchase_order))
    return found


async def distributor(sftp_root: Path, location_id: str, *, next_day_seconds: float = 60.0) -> int:
    """Answer every 850 the hub uploads; returns how many invoices were sent (runs until cancelled)."""
    inbound, outbound = sftp_root / "vendor" / "inbound", sftp_root / "vendor" / "outbound"
    answered: set[str] = set()
    sent = 0
    while True:
        for path, order in _orders(inbound):
            if order.po_number in answered:
                continue
            answered.add(order.po_number)
            changes = demo_changes(order)
            day = order.order_date.strftime("%Y%m%d")
            ack = distributor_file(
                [ack_855(order, changes)], "PR", vendor_id="VALLEYFOODS", buyer_id="EXPBISTRO"
            )
            (outbound / f"855_{location_id}_{day}.edi").write_bytes(ack)
            log.info("distributor acknowledged", po=order.po_number, file=path.name)
            await asyncio.sleep(next_day_seconds)
            invoice_day = order.order_date + timedelta(days=1)
            number = f"VF{invoice_day:%y%m%d}{len(answered):03d}"
            invoice = invoice_810(order, changes, number, invoice_day, fuel_charge=350)
            body = distributor_file([invoice], "IN", vendor_id="VALLEYFOODS", buyer_id="EXPBISTRO")
            (outbound / f"810_{location_id}_{invoice_day:%Y%m%d}.edi").write_bytes(body)
            sent += 1
            log.info("distributor invoiced", po=order.po_number, invoice=number)
        await asyncio.sleep(2)
