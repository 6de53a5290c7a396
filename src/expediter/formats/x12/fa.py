"""997 functional acknowledgements: written for every group we receive, read when partners send them.

A 997 tells the sender, per group (AK1) and per transaction (AK2), whether it was accepted
(``A``), accepted with errors noted (``E``), or rejected (``R``), with the standard's reason codes:
AK3/AK4 point at the bad segment and element, AK5 gives the transaction's codes, AK9 the group's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

import msgspec

from expediter.formats.x12.control import ControlNumbers
from expediter.formats.x12.errors import Severity, X12Problem
from expediter.formats.x12.reader import Group, Interchange, Transaction
from expediter.formats.x12.writer import Envelope, interchange, segment, transaction


class AckCode(StrEnum):
    ACCEPTED = "A"
    ERRORS_NOTED = "E"
    PARTIAL = "P"
    """Group only: some transactions accepted, some rejected."""
    REJECTED = "R"


TRANSACTION_REASONS = {
    "missing_se": "2",
    "se_control": "3",
    "se_count": "4",
    "element": "5",
    "segment_id": "5",
}
GROUP_REASONS = {"missing_ge": "3", "ge_control": "4", "ge_count": "5"}
SEGMENT_SYNTAX = {"segment_id": "1", "outside": "2", "element": "8"}
ELEMENT_SYNTAX = {"element": "7"}


def transaction_code(problems: Iterable[X12Problem]) -> tuple[AckCode, list[str]]:
    reasons: list[str] = []
    worst = AckCode.ACCEPTED
    for problem in problems:
        reason = TRANSACTION_REASONS.get(problem.code, "5")
        if reason not in reasons:
            reasons.append(reason)
        if problem.severity is Severity.ERROR:
            worst = AckCode.REJECTED
        elif worst is AckCode.ACCEPTED:
            worst = AckCode.ERRORS_NOTED
    return worst, reasons


def _segment_notes(tx: Transaction) -> list[str]:
    """AK3 (and AK4) for problems that point at a segment inside the transaction."""
    out: list[str] = []
    start = tx.segments[0].number if tx.segments else 0
    for problem in tx.problems:
        syntax = SEGMENT_SYNTAX.get(problem.code)
        if syntax is None or problem.position.segment < start:
            continue
        position = problem.position.segment - start + 1
        out.append(segment("AK3", problem.position.segment_id[:3], position, "", syntax))
        if problem.position.element and problem.code in ELEMENT_SYNTAX:
            out.append(segment("AK4", problem.position.element, "", ELEMENT_SYNTAX[problem.code]))
    return out


def _group_ack(group: Group) -> list[str]:
    body = [segment("AK1", group.functional_id, group.control)]
    accepted = 0
    for tx in group.transactions:
        code, reasons = transaction_code(tx.problems)
        accepted += code is not AckCode.REJECTED
        body.append(segment("AK2", tx.code, tx.control))
        body += _segment_notes(tx)
        body.append(segment("AK5", code, *reasons[:5]))
    count = len(group.transactions)
    group_reasons = [GROUP_REASONS[p.code] for p in group.problems if p.code in GROUP_REASONS]
    status = _group_status(accepted, count, group)
    body.append(segment("AK9", status, count, count, accepted, *group_reasons[:5]))
    return body


def _group_status(accepted: int, count: int, group: Group) -> AckCode:
    group_errors = any(p.severity is Severity.ERROR for p in group.problems)
    if group_errors or (count and accepted == 0):
        return AckCode.REJECTED
    if accepted < count:
        return AckCode.PARTIAL
    noted = group.problems or any(tx.problems for tx in group.transactions)
    return AckCode.ERRORS_NOTED if noted else AckCode.ACCEPTED


def functional_ack(
    received: Interchange, numbers: ControlNumbers, when: datetime, *, usage: str | None = None
) -> str:
    """One 997 interchange back to the sender of ``received``, one 997 per group in it."""
    envelope = Envelope(
        sender_id=received.receiver,
        sender_qualifier=received.receiver_qualifier or "ZZ",
        receiver_id=received.sender,
        receiver_qualifier=received.sender_qualifier or "ZZ",
        group_sender=received.groups[0].receiver if received.groups else "",
        group_receiver=received.groups[0].sender if received.groups else "",
        usage=usage or received.usage or "P",
    )
    sets = [transaction("997", f"{n:04d}", _group_ack(group)) for n, group in enumerate(received.groups, 1)]
    text, _ = interchange(envelope, "FA", sets, numbers, when)
    return text


class SetAck(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    control: str
    status: str
    reasons: list[str] = []


class GroupAck(msgspec.Struct, frozen=True, kw_only=True):
    functional_id: str
    control: str
    status: str
    sets: list[SetAck]
    included: int = 0
    accepted: int = 0


def read_997(tx: Transaction) -> list[GroupAck]:
    """What a partner's 997 says about the groups we sent."""
    groups: list[GroupAck] = []
    current: dict[str, object] = {}
    sets: list[SetAck] = []
    pending: tuple[str, str] | None = None
    for seg in tx.body():
        if seg.id == "AK1":
            current, sets = {"functional_id": seg[1], "control": seg[2]}, []
        elif seg.id == "AK2":
            pending = (seg[1], seg[2])
        elif seg.id == "AK5" and pending is not None:
            sets.append(
                SetAck(
                    code=pending[0],
                    control=pending[1],
                    status=seg[1],
                    reasons=[e for e in seg.elements[2:] if e],
                )
            )
            pending = None
        elif seg.id == "AK9":
            groups.append(
                GroupAck(
                    functional_id=str(current.get("functional_id", "")),
                    control=str(current.get("control", "")),
                    status=seg[1],
                    sets=sets,
                    included=int(seg[2]) if seg[2].isdigit() else 0,
                    accepted=int(seg[4]) if seg[4].isdigit() else 0,
                )
            )
    return groups
