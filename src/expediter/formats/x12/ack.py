"""855 purchase order acknowledgements → :class:`~expediter.model.vendors.POAcknowledgement`.

BAK gives the whole order's answer (BAK02) and the PO number (BAK03); each PO1 line is followed by
ACK segments whose ACK01 says what happens to it (accepted, changed, substituted, back-ordered,
rejected). A substitution names the product shipped instead in ACK07 onwards.
"""

from __future__ import annotations

from expediter.formats.x12.reader import Segment, Transaction
from expediter.formats.x12.values import Where, item_ids, parse_date
from expediter.model.vendors import AckLine, AckStatus, ItemIds, POAcknowledgement

ORDER_REJECTED = frozenset({"RD", "RF", "RJ", "RO", "RN", "RV"})
ORDER_CHANGED = frozenset({"AC", "AE", "AP"})
LINE_STATUS = {
    "IA": AckStatus.ACCEPTED,
    "AR": AckStatus.ACCEPTED,
    "SP": AckStatus.ACCEPTED,
    "IC": AckStatus.CHANGED,
    "IP": AckStatus.CHANGED,
    "IQ": AckStatus.CHANGED,
    "DR": AckStatus.CHANGED,
    "IE": AckStatus.CHANGED,
    "IS": AckStatus.SUBSTITUTED,
    "IB": AckStatus.BACKORDERED,
    "BP": AckStatus.BACKORDERED,
    "IH": AckStatus.BACKORDERED,
    "IW": AckStatus.BACKORDERED,
    "IF": AckStatus.BACKORDERED,
    "ID": AckStatus.REJECTED,
    "IR": AckStatus.REJECTED,
}


def line_status(code: str) -> AckStatus:
    if code.startswith("R") and code[1:].isdigit():
        return AckStatus.REJECTED  # R1..R8: rejected with a reason
    return LINE_STATUS.get(code, AckStatus.CHANGED)


class _Pending:
    def __init__(self, segment: Segment, where: Where, ordinal: int) -> None:
        self.number = segment[1].strip() or str(ordinal)
        self.item = item_ids(segment, 6, 24)
        self.ordered = where.decimal(segment, 2, "the quantity ordered") if segment[2].strip() else None
        self.unit = segment[3].strip()
        self.price = where.decimal(segment, 4, "the unit price") if segment[4].strip() else None
        self.description = ""
        self.ack: Segment | None = None

    def build(self, where: Where, default: AckStatus) -> AckLine:
        ack = self.ack
        if ack is None:
            return AckLine(
                line_number=self.number,
                status=default,
                code="",
                item=self.item,
                ordered_quantity=self.ordered,
                quantity=self.ordered,
                unit=self.unit,
                unit_price=self.price,
                description=self.description,
            )
        code = ack[1].strip()
        status = line_status(code)
        substitute = item_ids(ack, 7, 27) if status is AckStatus.SUBSTITUTED else None
        return AckLine(
            line_number=self.number,
            status=status,
            code=code,
            item=self.item,
            ordered_quantity=self.ordered,
            quantity=where.decimal(ack, 2, "the quantity acknowledged") if ack[2].strip() else None,
            unit=ack[3].strip() or self.unit,
            unit_price=self.price,
            substitute=substitute if substitute and substitute != ItemIds() else None,
            description=self.description,
            ship_date=parse_date(ack[5].strip()) if ack[5].strip() else None,
        )


def ack_from_855(text: str, transaction: Transaction, sender: str = "") -> POAcknowledgement:
    where = Where(text, transaction)
    bak: Segment | None = None
    pending: list[_Pending] = []
    for segment in transaction.body():
        if segment.id == "BAK":
            bak = segment
        elif segment.id == "PO1":
            pending.append(_Pending(segment, where, len(pending) + 1))
        elif segment.id == "PID" and pending and not pending[-1].description:
            pending[-1].description = segment[5].strip()
        elif segment.id == "ACK" and pending and pending[-1].ack is None:
            pending[-1].ack = segment
    if bak is None:
        first = transaction.segments[0]
        raise where.error(first, 0, "the acknowledgement has no BAK segment", "send BAK right after ST")
    code = bak[2].strip()
    default = AckStatus.REJECTED if code in ORDER_REJECTED else AckStatus.ACCEPTED
    lines = [line.build(where, default) for line in pending]
    return POAcknowledgement(
        po_number=where.required(bak, 3, "the purchase order number"),
        ack_date=where.date(bak, 4, "the order date", optional=True),
        status=_order_status(code, lines),
        code=code,
        lines=lines,
        vendor=sender,
        reference=bak[8].strip(),
    )


def _order_status(code: str, lines: list[AckLine]) -> AckStatus:
    if code in ORDER_REJECTED or (lines and all(line.status is AckStatus.REJECTED for line in lines)):
        return AckStatus.REJECTED
    if code in ORDER_CHANGED or any(line.status is not AckStatus.ACCEPTED for line in lines):
        return AckStatus.CHANGED
    return AckStatus.ACCEPTED
