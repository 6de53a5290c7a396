"""Vendor files ⇄ the canonical model: what an arriving file holds, what a purchase order becomes."""

from __future__ import annotations

import msgspec

from expediter.connectors.x12.config import X12Settings
from expediter.connectors.x12.formats import read_csv_invoices
from expediter.formats.x12 import (
    ControlNumbers,
    Envelope,
    X12Problem,
    functional_ack,
    interchange,
    po_transaction,
    read_documents,
)
from expediter.model import clock
from expediter.model.vendors import Invoice, POAcknowledgement, PurchaseOrder

CSV_FORMATS = frozenset({"csv", "csv-invoice"})


class VendorFile(msgspec.Struct, kw_only=True):
    """What one arriving file holds, in the model, and what to answer."""

    invoices: list[Invoice] = []
    acknowledgements: list[POAcknowledgement] = []
    problems: list[X12Problem] = []
    replies: list[tuple[str, bytes]] = []
    """Files to send back to the vendor (997s), by name."""
    documents: int = 0

    @property
    def errors(self) -> list[X12Problem]:
        return [p for p in self.problems if p.severity == "error"]


def read_vendor_file(
    name: str, data: bytes, fmt: str, settings: X12Settings, vendor: str, numbers: ControlNumbers
) -> VendorFile:
    if fmt in CSV_FORMATS:
        invoices = read_csv_invoices(data, settings.csv, vendor)
        return VendorFile(invoices=invoices, documents=len(invoices))
    read = read_documents(data, strict=settings.strict)
    found = VendorFile(problems=read.problems, documents=len(read.documents))
    for document in read.documents:
        if document.invoice is not None:
            found.invoices.append(msgspec.structs.replace(document.invoice, vendor=vendor))
        if document.acknowledgement is not None:
            found.acknowledgements.append(msgspec.structs.replace(document.acknowledgement, vendor=vendor))
    now = clock.now()
    for number, received in enumerate(read.file.interchanges, 1):
        # Acknowledgements are never acknowledged (a 997 answering a 997 would loop).
        if received.groups and any(group.functional_id != "FA" for group in received.groups):
            ack = functional_ack(received, numbers, now, usage=settings.usage)
            found.replies.append((f"997_{name.rsplit('.', 1)[0]}_{number}.edi", ack.encode()))
    return found


def envelope_for(settings: X12Settings) -> Envelope:
    return Envelope(
        sender_id=settings.our_id,
        sender_qualifier=settings.our_qualifier,
        receiver_id=settings.partner_id,
        receiver_qualifier=settings.partner_qualifier,
        usage=settings.usage,
    )


def purchase_order_file(
    order: PurchaseOrder, settings: X12Settings, numbers: ControlNumbers
) -> tuple[str, bytes]:
    """One 850 interchange for ``order``, named after the PO and its control number."""
    text, number = interchange(envelope_for(settings), "PO", [po_transaction(order)], numbers, clock.now())
    return f"850_{order.po_number}_{number:09d}.edi", text.encode()
