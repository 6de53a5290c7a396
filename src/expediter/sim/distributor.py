"""A simulated foodservice distributor: answers a purchase order with an 855 and invoices it with
an 810, with the changes a real delivery brings (a substitution, a short, a price change).

Used by the demo, the tests and ``bench/x12.py``. The files are written the way distributors'
translators write them (``*``/``>``/``~``, one segment per line), through our own X12 writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from expediter.formats.x12 import ControlNumbers, Envelope, InMemoryControlNumbers, interchange
from expediter.formats.x12.writer import segment, transaction
from expediter.model import clock
from expediter.model.vendors import POLine, PurchaseOrder


@dataclass
class Changes:
    """What the distributor does to the order, by PO line number."""

    substitute: dict[str, str] = field(default_factory=dict)
    """PO line → the vendor item shipped instead."""
    short: dict[str, Decimal] = field(default_factory=dict)
    """PO line → the quantity shipped (less than ordered)."""
    price: dict[str, Decimal] = field(default_factory=dict)
    """PO line → the unit price billed."""
    catch_weight: dict[str, Decimal] = field(default_factory=dict)
    """PO line → pounds shipped, priced per pound (IT105 ``PP``)."""


def demo_changes(order: PurchaseOrder) -> Changes:
    """One substitution, one short and one price change on the first three lines (as many as exist)."""
    lines = order.lines
    changes = Changes()
    if lines:
        changes.substitute[lines[0].line_number] = f"{lines[0].item.vendor_item or 'ITEM'}-ALT"
    if len(lines) > 1 and lines[1].quantity > 1:
        changes.short[lines[1].line_number] = lines[1].quantity - 1
    if len(lines) > 2:
        changes.price[lines[2].line_number] = (lines[2].unit_price * Decimal("1.08")).quantize(
            Decimal("0.01")
        )
    return changes


def _ids(line: POLine, changes: Changes) -> list[str]:
    item = changes.substitute.get(line.line_number, line.item.vendor_item)
    return ["VN", item] if item else []


def ack_855(order: PurchaseOrder, changes: Changes, *, when: datetime | None = None) -> list[str]:
    body = [
        segment(
            "BAK", "00", "AC" if _changed(changes) else "AD", order.po_number, f"{order.order_date:%Y%m%d}"
        )
    ]
    for line in order.lines:
        body.append(
            segment(
                "PO1",
                line.line_number,
                line.quantity,
                line.unit,
                line.unit_price,
                "PE",
                "VN",
                line.item.vendor_item,
            )
        )
        number = line.line_number
        if number in changes.substitute:
            body.append(
                segment("ACK", "IS", line.quantity, line.unit, "", "", "", "VN", changes.substitute[number])
            )
        elif number in changes.short:
            body.append(segment("ACK", "IQ", changes.short[number], line.unit))
        elif number in changes.price:
            body.append(segment("ACK", "IP", line.quantity, line.unit))
        else:
            body.append(segment("ACK", "IA", line.quantity, line.unit))
    body.append(segment("CTT", len(order.lines)))
    return transaction("855", "0001", body)


def _changed(changes: Changes) -> bool:
    return bool(changes.substitute or changes.short or changes.price)


def _it1_loop(line: POLine, changes: Changes) -> tuple[list[str], Decimal]:
    number = line.line_number
    quantity = changes.short.get(number, line.quantity)
    price = changes.price.get(number, line.unit_price)
    weight = changes.catch_weight.get(number)
    basis = "PP" if weight is not None else "PE"
    out = [segment("IT1", number, quantity, line.unit, price, basis, *_ids(line, changes))]
    out.append(segment("PID", "F", "", "", "", line.description))
    out.append(segment("REF", "LI", number))  # the PO line it bills, as distributors send it
    if weight is not None:
        out.append(segment("MEA", "", "WT", weight, "LB"))
    billed = weight if weight is not None else quantity
    return out, billed * price


def invoice_810(
    order: PurchaseOrder, changes: Changes, invoice_number: str, invoice_date: date, *, fuel_charge: int = 0
) -> list[str]:
    body = [
        segment(
            "BIG", f"{invoice_date:%Y%m%d}", invoice_number, f"{order.order_date:%Y%m%d}", order.po_number
        ),
        segment("CUR", "SE", order.currency),
        segment("N1", "ST", order.ship_to.name if order.ship_to else "", "92", order.location_id),
        segment("N1", "RI", "Broadline Foods Remit"),
        segment("ITD", "01", "3", "", "", "", "", "14", "", "", "", "", "NET 14"),
    ]
    total = Decimal(0)
    for line in order.lines:
        loop, amount = _it1_loop(line, changes)
        body += loop
        total += amount.quantize(Decimal("0.01"))
    cents = int(total * 100) + fuel_charge
    body.append(segment("TDS", cents))
    if fuel_charge:
        body.append(
            segment(
                "SAC", "C", "D240", "", "", fuel_charge, "", "", "", "", "", "", "", "", "", "FUEL SURCHARGE"
            )
        )
    body.append(segment("CTT", len(order.lines)))
    return transaction("810", "0001", body)


def distributor_file(
    transactions: list[list[str]],
    functional_id: str,
    *,
    vendor_id: str = "BROADLINE",
    buyer_id: str = "EXPEDITER",
    numbers: ControlNumbers | None = None,
    when: datetime | None = None,
) -> bytes:
    envelope = Envelope(sender_id=vendor_id, receiver_id=buyer_id)
    text, _ = interchange(
        envelope, functional_id, transactions, numbers or InMemoryControlNumbers(), when or clock.now()
    )
    return text.encode()
