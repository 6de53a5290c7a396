"""850 purchase orders: the canonical :class:`~expediter.model.vendors.PurchaseOrder` to X12 and back.

Written: BEG (purpose, ``SA`` stand-alone order, PO number, date), CUR, DTM*002 (delivery
requested), N9/MSG notes, N1 loops for ship-to (our location, qualifier 92 = assigned by the
buyer), bill-to and the vendor, then per line PO1 (line number, quantity, unit, unit price, ``PE``
price per each unit ordered, ``VN`` vendor item, ``UP`` UPC, ``BP`` our ingredient id), PID
description and PO4 pack and size, and CTT (line count, quantity hash). Read: the same segments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec

from expediter.formats.x12.reader import Segment, Transaction
from expediter.formats.x12.values import Where, item_ids
from expediter.formats.x12.writer import segment, transaction
from expediter.model.vendors import ItemIds, Party, POLine, PurchaseOrder

NOTES = "L1"


def _number(value: Decimal) -> str:
    """A decimal as X12 writes it: no exponent, no trailing zeros after the point."""
    text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _party(party: Party | None) -> list[str]:
    if party is None:
        return []
    out = [segment("N1", party.role, party.name, party.id_qualifier if party.id else "", party.id)]
    if party.address:
        out.append(segment("N3", *party.address[:2]))
    if party.city or party.state or party.postal_code:
        out.append(segment("N4", party.city, party.state, party.postal_code, party.country))
    return out


def _ids(item: ItemIds, ingredient: str) -> list[str]:
    pairs: list[str] = []
    for qualifier, value in (
        ("VN", item.vendor_item),
        ("UP", item.upc),
        ("BP", item.buyer_item or ingredient),
    ):
        if value:
            pairs += [qualifier, value]
    return pairs


def _line(line: POLine) -> list[str]:
    out = [
        segment(
            "PO1",
            line.line_number,
            _number(line.quantity),
            line.unit,
            _number(line.unit_price),
            "PE",
            *_ids(line.item, line.ingredient),
        )
    ]
    if line.description:
        out.append(segment("PID", "F", "", "", "", line.description))
    if line.pack is not None or line.size is not None:
        pack = _number(line.pack) if line.pack is not None else ""
        size = _number(line.size) if line.size is not None else ""
        out.append(segment("PO4", pack, size, line.size_unit))
    return out


def po_segments(order: PurchaseOrder) -> list[str]:
    """The 850 body (between ST and SE)."""
    body = [segment("BEG", order.purpose, "SA", order.po_number, "", order.order_date.strftime("%Y%m%d"))]
    body.append(segment("CUR", "BY", order.currency))
    if order.requested_delivery is not None:
        body.append(segment("DTM", "002", order.requested_delivery.strftime("%Y%m%d")))
    if order.notes:
        body.append(segment("N9", NOTES, "NOTES"))
        body += [segment("MSG", note) for note in order.notes]
    ship_to = order.ship_to or Party(role="ST", id_qualifier="92", id=order.location_id)
    vendor = order.vendor_party or Party(role="VN", id_qualifier="92", id=order.vendor)
    for party in (ship_to, order.bill_to, vendor):
        body += _party(party)
    for line in order.lines:
        body += _line(line)
    hash_total = sum((line.quantity for line in order.lines), Decimal(0))
    body.append(segment("CTT", len(order.lines), _number(hash_total)))
    return body


def po_transaction(order: PurchaseOrder, control: str = "0001") -> list[str]:
    return transaction("850", control, po_segments(order))


class _PoReader:
    def __init__(self, text: str, tx: Transaction) -> None:
        self.where = Where(text, tx)
        self.tx = tx
        self.parties: list[Party] = []
        self.lines: list[POLine] = []
        self.notes: list[str] = []
        self.delivery: date | None = None
        self.currency = "USD"
        self.beg: Segment | None = None

    def read(self, segment_: Segment) -> None:
        sid = segment_.id
        if sid == "BEG":
            self.beg = segment_
        elif sid == "CUR" and segment_[2]:
            self.currency = segment_[2]
        elif sid == "DTM" and segment_[1] == "002":
            self.delivery = self.where.date(segment_, 2, "the requested delivery date")
        elif sid == "MSG":
            self.notes.append(segment_[1])
        elif sid == "N1":
            self.parties.append(
                Party(role=segment_[1], name=segment_[2], id_qualifier=segment_[3], id=segment_[4])
            )
        elif sid in ("N3", "N4") and self.parties and not self.lines:
            self._address(segment_)
        elif sid == "PO1":
            self.lines.append(self._po1(segment_))
        elif sid == "PID" and self.lines and not self.lines[-1].description:
            self.lines[-1] = msgspec.structs.replace(self.lines[-1], description=segment_[5])
        elif sid == "PO4" and self.lines:
            self._po4(segment_)

    def _address(self, seg: Segment) -> None:
        last = self.parties[-1]
        if seg.id == "N3":
            last = msgspec.structs.replace(last, address=[*last.address, *(x for x in (seg[1], seg[2]) if x)])
        else:
            last = msgspec.structs.replace(
                last, city=seg[1], state=seg[2], postal_code=seg[3], country=seg[4]
            )
        self.parties[-1] = last

    def _po1(self, seg: Segment) -> POLine:
        ids = item_ids(seg, 6, 24)
        return POLine(
            line_number=seg[1] or str(len(self.lines) + 1),
            item=ids,
            description="",
            quantity=self.where.decimal(seg, 2, "the quantity ordered"),
            unit=seg[3],
            unit_price=self.where.decimal(seg, 4, "the unit price", default="0"),
            ingredient=ids.buyer_item,
        )

    def _po4(self, seg: Segment) -> None:
        pack = self.where.decimal(seg, 1, "the pack") if seg[1] else None
        size = self.where.decimal(seg, 2, "the size") if seg[2] else None
        self.lines[-1] = msgspec.structs.replace(self.lines[-1], pack=pack, size=size, size_unit=seg[3])

    def build(self, receiver: str) -> PurchaseOrder:
        beg = self.beg
        if beg is None:
            first = self.tx.segments[0]
            raise self.where.error(
                first, 0, "the purchase order has no BEG segment", "send BEG right after ST"
            )
        role = {p.role: p for p in self.parties}
        ship_to, vendor = role.get("ST"), role.get("VN") or role.get("SU")

        return PurchaseOrder(
            po_number=self.where.required(beg, 3, "the purchase order number"),
            order_date=self.where.date(beg, 5, "the order date") or date.min,
            vendor=(vendor.id if vendor and vendor.id else receiver),
            location_id=ship_to.id if ship_to else "",
            lines=self.lines,
            currency=self.currency,
            purpose=beg[1],
            requested_delivery=self.delivery,
            ship_to=ship_to,
            bill_to=role.get("BT"),
            vendor_party=vendor,
            notes=self.notes,
        )


def po_from_850(text: str, tx: Transaction, receiver: str = "") -> PurchaseOrder:
    reader = _PoReader(text, tx)
    for seg in tx.body():
        reader.read(seg)
    return reader.build(receiver)
