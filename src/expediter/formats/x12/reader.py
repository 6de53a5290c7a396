"""Reading X12: the separators from each ISA, then interchanges, groups and transactions, checked.

Separators are never assumed: the element separator is the character after ``ISA``, the component
separator is ISA16 (the character after the 16th element separator), the segment terminator the
character after that, and the repetition separator ISA11 when it is not a letter (5010). The ISA
is read by its separators, not by fixed offsets, because real ISAs are not always 106 characters
(unpadded ids, non-breaking spaces). Each interchange of a file declares its own separators.

Whitespace (spaces, tabs, line breaks, a UTF-8 BOM) is trimmed *between* segments, never inside an
element. ISB/ISE and TA1 segments between the ISA and the first GS are kept as interchange service
segments. Counts and control numbers (IEA, GE, SE) are checked; see :mod:`.errors` for why a
mismatch is a warning unless the reader is strict.
"""

from __future__ import annotations

import itertools
import re

from expediter.formats.x12.errors import Severity, X12Error, X12Problem
from expediter.formats.x12.segments import (
    Delimiters,
    Group,
    Interchange,
    Locator,
    Segment,
    Transaction,
    X12File,
    decode,
)

_WHITESPACE = " \t\r\n\x0b\x0c\xa0"
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_SERVICE_SEGMENTS = frozenset({"ISB", "ISE", "TA1"})
_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})


def read_x12(data: bytes | str, *, strict: bool = False) -> X12File:
    """Every interchange in ``data`` with its groups and transactions, and every problem found."""
    return _Reader(decode(data), strict).read()


class _Reader:
    def __init__(self, text: str, strict: bool) -> None:
        self.text = text
        self.strict = strict
        self.where = Locator(text)
        self.problems: list[X12Problem] = []
        self.number = 0
        self.transaction: Transaction | None = None
        self.group: Group | None = None
        self.known_ids: set[str] = set()
        self.data_ids: set[str] = set()
        """Valid ids that are no envelope segment: inside a transaction they are simply kept."""

    # -- problems --------------------------------------------------------------------------
    def problem(
        self,
        code: str,
        message: str,
        segment: Segment | None,
        *,
        fix: str = "",
        element: int = 0,
        mismatch: bool = False,
        offset: int | None = None,
    ) -> X12Problem:
        severity = Severity.WARNING if mismatch and not self.strict else Severity.ERROR
        if segment is not None:
            position = self.where.at(segment.offset, segment.number, segment.id, element)
        else:
            position = self.where.at(offset or 0, self.number + 1)
        found = X12Problem(
            code=code,
            message=message,
            position=position,
            fix=fix,
            severity=severity,
            transaction=self.transaction.control if self.transaction else "",
        )
        self.problems.append(found)
        if self.transaction is not None:
            self.transaction.problems.append(found)
        elif self.group is not None:
            self.group.problems.append(found)
        return found

    # -- the file --------------------------------------------------------------------------
    def read(self) -> X12File:
        interchanges: list[Interchange] = []
        start = self._skip_blank(0)
        if start >= len(self.text):
            self.problem(
                "empty", "the file is empty", None, fix="send the file again; it arrived with no data"
            )
        while start < len(self.text):
            if not self.text.startswith("ISA", start):
                self._not_an_interchange(start)
                break
            read = self._interchange(start)
            if read is None:
                break
            interchange, start = read
            interchanges.append(interchange)
            start = self._skip_blank(start)
        return X12File(interchanges=interchanges, problems=self.problems)

    def _skip_blank(self, offset: int) -> int:
        while offset < len(self.text) and self.text[offset] in _WHITESPACE:
            offset += 1
        return offset

    def _not_an_interchange(self, offset: int) -> None:
        head = self.text[offset : offset + 3]
        if head == "DXS":
            self.problem(
                "dex_894",
                "this is a UCS/DEX 894 delivery file (it starts with DXS), not an X12 interchange",
                None,
                offset=offset,
                fix="DEX 894 direct-store-delivery files are not read yet; ask the supplier for an "
                "X12 810 or 880 invoice, or send the delivery as a CSV invoice",
            )
            return
        found = self.text[offset : offset + 20].split("\n")[0]
        self.problem(
            "no_isa",
            f"expected an interchange to start with ISA, found {found!r}",
            None,
            offset=offset,
            fix="an X12 file starts with the ISA segment; check that the whole file was sent",
        )

    # -- one interchange -------------------------------------------------------------------
    def _interchange(self, start: int) -> tuple[Interchange, int] | None:
        isa = self._isa(start)
        if isa is None:
            return None
        elements, delimiters, body_start = isa
        self.number += 1
        isa_segment = Segment(elements, self.number, start)
        interchange = Interchange(
            sender_qualifier=elements[5].strip(_WHITESPACE),
            sender=elements[6].strip(_WHITESPACE),
            receiver_qualifier=elements[7].strip(_WHITESPACE),
            receiver=elements[8].strip(_WHITESPACE),
            date=elements[9],
            time=elements[10],
            control=elements[13],
            version=elements[12],
            usage=elements[15],
            ack_requested=elements[14],
            delimiters=delimiters,
        )
        self._check_isa(isa_segment)
        end = self._body(interchange, isa_segment, body_start)
        return interchange, end

    def _isa(self, start: int) -> tuple[list[str], Delimiters, int] | None:
        text = self.text
        element = text[start + 3 : start + 4]
        if not element or element.isalnum() or element in _WHITESPACE:
            self.problem(
                "isa_separator",
                f"the ISA's 4th character {element!r} cannot be an element separator",
                None,
                offset=start,
                fix="the element separator (often *) must follow ISA directly",
            )
            return None
        cuts = [start + 3]
        while len(cuts) < 16:
            found = text.find(element, cuts[-1] + 1)
            if found < 0:
                break
            cuts.append(found)
        if len(cuts) < 16:
            self.problem(
                "isa_short",
                f"the ISA segment has {len(cuts)} of its 16 elements; the file is cut short or not X12",
                None,
                offset=start,
                fix="send the whole file again",
            )
            return None
        fields = ["ISA"] + [text[a + 1 : b] for a, b in itertools.pairwise(cuts)]
        component = text[cuts[15] + 1 : cuts[15] + 2]
        terminator = text[cuts[15] + 2 : cuts[15] + 3]
        fields.append(component)
        if not self._separators_ok(start, element, component, terminator):
            return None
        repetition = fields[11] if fields[11] and not fields[11].isalnum() else ""
        delimiters = Delimiters(
            element=element, component=component, segment=terminator, repetition=repetition
        )
        return fields, delimiters, cuts[15] + 3

    def _separators_ok(self, start: int, element: str, component: str, terminator: str) -> bool:
        if not terminator:
            self.problem(
                "isa_short",
                "the file ends inside the ISA segment",
                None,
                offset=start,
                fix="send the whole file again",
            )
            return False
        if component.isalnum() or terminator.isalnum() or len({element, component, terminator}) < 3:
            self.problem(
                "isa_separators",
                f"the ISA declares element separator {element!r}, component separator (ISA16)"
                f" {component!r} and segment terminator {terminator!r}: they must be three different"
                " characters that are not letters or digits",
                None,
                offset=start,
                fix="the ISA must end with one component separator (ISA16, often >) followed by the"
                " segment terminator (often ~)",
            )
            return False
        return True

    def _check_isa(self, isa: Segment) -> None:
        control = isa[13]
        if not (len(control) == 9 and control.isdigit()):
            self.problem(
                "isa_control",
                f"the interchange control number (ISA13) {control!r} is not 9 digits",
                isa,
                element=13,
                mismatch=True,
                fix="ISA13 is a 9-digit number such as 000000123",
            )

    def _body(self, interchange: Interchange, isa: Segment, body_start: int) -> int:
        """Reads the segments after ``isa`` until its IEA; returns the offset after it. The loop is
        the reader's hot path: a data segment inside a transaction takes its shortest branch."""
        delimiters = interchange.delimiters
        element = delimiters.element
        strip = "".join(c for c in _WHITESPACE if c not in (delimiters.element, delimiters.component))
        pieces = self.text[body_start:].split(delimiters.segment)
        last = len(pieces) - 1
        offset = body_start
        first = True
        data_ids = self.data_ids
        for index, piece in enumerate(pieces):
            start = offset
            offset += len(piece) + 1
            trimmed = piece.lstrip(strip)
            if not trimmed:
                continue
            at = start + len(piece) - len(trimmed)
            trimmed = trimmed.rstrip("\r\n")
            self.number += 1
            elements = trimmed.split(element)
            segment = Segment(elements, self.number, at)
            transaction = self.transaction
            if transaction is not None and index < last and elements[0] in data_ids:
                transaction.segments.append(segment)  # the common case, kept short
                continue
            if index == last and delimiters.segment not in "\r\n":
                self._cut(segment, delimiters)
            if first:
                self._check_first(segment, isa, delimiters)
                first = False
            outcome = self._envelope_segment(interchange, isa, segment)
            if outcome == "end":
                return at + len(trimmed) + 1
            if outcome == "next":
                return at
        self._unterminated(interchange, isa, None)
        return len(self.text)

    def _envelope_segment(self, interchange: Interchange, isa: Segment, segment: Segment) -> str:
        """``end`` after the IEA, ``next`` at an ISA that starts another interchange, else ``""``."""
        sid = segment.elements[0]
        if sid not in self.known_ids:
            if not _SEGMENT_ID.fullmatch(sid):
                self._bad_segment_id(segment)
                return ""
            self.known_ids.add(sid)
            if sid not in _ENVELOPE:
                self.data_ids.add(sid)
        if sid == "IEA":
            self._close_interchange(interchange, isa, segment)
            return "end"
        if sid == "ISA":
            self._unterminated(interchange, isa, segment)
            return "next"
        self._segment(interchange, segment)
        return ""

    def _check_first(self, segment: Segment, isa: Segment, delimiters: Delimiters) -> None:
        """A component separator ending the next segment means the ISA lost its own ISA16."""
        if segment.elements[-1].endswith(delimiters.component) and delimiters.segment in "\r\n":
            self.problem(
                "isa16_terminator",
                f"the ISA's component separator (ISA16) is {delimiters.component!r} followed by a line"
                f" break, but the next segment also ends in {delimiters.component!r}: the ISA seems to"
                " be missing its component separator, so every segment is read wrongly",
                isa,
                element=16,
                fix=f"end the ISA with a component separator and then {delimiters.component!r}"
                f" (e.g. ...*T*>{delimiters.component}) and end every segment with"
                f" {delimiters.component!r}",
            )

    def _cut(self, segment: Segment, delimiters: Delimiters) -> None:
        self.problem(
            "unterminated",
            f"the last segment ({segment.id[:3]}) has no segment terminator {delimiters.segment!r}:"
            " the file may have been cut off in transfer",
            segment,
            fix="send the whole file again",
        )

    def _bad_segment_id(self, segment: Segment) -> None:
        shown = segment.id[:20]
        self.problem(
            "segment_id",
            f"{shown!r} is not a segment id (2 or 3 capital letters or digits, starting with a letter)",
            segment,
            fix="check the segment terminator: a missing or extra terminator glues or splits segments",
        )

    # -- groups and transactions -----------------------------------------------------------
    def _segment(self, interchange: Interchange, segment: Segment) -> None:
        sid = segment.id
        if sid == "GS":
            self._open_group(interchange, segment)
        elif sid == "GE":
            self._close_group(segment)
        elif sid == "ST":
            self._open_transaction(segment)
        elif sid == "SE":
            self._close_transaction(segment)
        elif self.transaction is not None:
            self.transaction.segments.append(segment)
        elif sid in _SERVICE_SEGMENTS and self.group is None and not interchange.groups:
            interchange.services.append(segment.elements)
        else:
            where = "a group (GS)" if self.group is None else "a transaction (ST)"
            self.problem(
                "outside",
                f"segment {sid} appears outside {where}",
                segment,
                fix="every data segment belongs between an ST and its SE, inside a GS and its GE",
            )

    def _open_group(self, interchange: Interchange, segment: Segment) -> None:
        if self.group is not None:
            self.problem(
                "missing_ge",
                f"a new group starts before group {self.group.control} was closed with GE",
                segment,
                fix="end every functional group with GE",
            )
            self._end_transaction_without_se(segment)
        self.group = Group(
            functional_id=segment[1],
            sender=segment[2],
            receiver=segment[3],
            date=segment[4],
            time=segment[5],
            control=segment[6],
            version=segment[8],
        )
        interchange.groups.append(self.group)

    def _close_group(self, segment: Segment) -> None:
        group = self.group
        if group is None:
            self.problem("stray_ge", "GE without a GS", segment, fix="remove the GE or add its GS")
            return
        self._end_transaction_without_se(segment)
        count = len(group.transactions)
        if segment[1] != str(count):
            self._count_mismatch(segment, "GE01", "transactions", segment[1], count, "group")
        if segment[2] != group.control:
            self.problem(
                "ge_control",
                f"GE02 {segment[2]!r} does not repeat the group's control number GS06 {group.control!r}",
                segment,
                element=2,
                mismatch=True,
                fix="GE02 must equal GS06",
            )
        self.group = None

    def _open_transaction(self, segment: Segment) -> None:
        if self.group is None:
            self.problem(
                "outside",
                "a transaction (ST) starts outside a functional group (GS)",
                segment,
                fix="put every ST ... SE between a GS and its GE",
            )
            return
        self._end_transaction_without_se(segment)
        self.transaction = Transaction(
            code=segment[1],
            control=segment[2],
            version=segment[3] or self.group.version,
            segments=[segment],
            group_control=self.group.control,
            functional_id=self.group.functional_id,
        )
        self.group.transactions.append(self.transaction)

    def _close_transaction(self, segment: Segment) -> None:
        transaction = self.transaction
        if transaction is None:
            self.problem("stray_se", "SE without an ST", segment, fix="remove the SE or add its ST")
            return
        transaction.segments.append(segment)
        count = len(transaction.segments)
        if segment[1] != str(count) and _int_or_none(segment[1]) != count:
            self._count_mismatch(segment, "SE01", "segments", segment[1], count, "transaction")
        if segment[2] != transaction.control:
            self.problem(
                "se_control",
                f"SE02 {segment[2]!r} does not repeat the transaction's control number ST02"
                f" {transaction.control!r}",
                segment,
                element=2,
                mismatch=True,
                fix="SE02 must equal ST02",
            )
        self.transaction = None

    def _end_transaction_without_se(self, segment: Segment) -> None:
        if self.transaction is not None:
            self.problem(
                "missing_se",
                f"transaction {self.transaction.code} {self.transaction.control} (from segment"
                f" {self.transaction.segments[0].number}) has no SE trailer",
                segment,
                fix="end every transaction with SE; the file may have been cut or two files glued",
            )
            self.transaction = None

    def _count_mismatch(
        self, segment: Segment, element: str, what: str, stated: str, counted: int, scope: str
    ) -> None:
        self.problem(
            f"{segment.id.lower()}_count",
            f"{element} says {stated!r} {what}, but the {scope} has {counted}",
            segment,
            element=1,
            mismatch=True,
            fix=f"{element} must count the {what} of the {scope}",
        )

    def _close_interchange(self, interchange: Interchange, isa: Segment, iea: Segment) -> None:
        if self.group is not None:
            self.problem(
                "missing_ge",
                f"the interchange ends before group {self.group.control} was closed with GE",
                iea,
                fix="end every functional group with GE",
            )
            self._end_transaction_without_se(iea)
            self.group = None
        if iea[1] != str(len(interchange.groups)) and _int_or_none(iea[1]) != len(interchange.groups):
            self._count_mismatch(iea, "IEA01", "groups", iea[1], len(interchange.groups), "interchange")
        if iea[2] != interchange.control:
            self.problem(
                "iea_control",
                f"IEA02 {iea[2]!r} does not repeat the interchange control number ISA13"
                f" {interchange.control!r} (segment {isa.number})",
                iea,
                element=2,
                mismatch=True,
                fix="IEA02 must equal ISA13",
            )

    def _unterminated(self, interchange: Interchange, isa: Segment, next_isa: Segment | None) -> None:
        where = next_isa or Segment(["EOF"], self.number + 1, len(self.text))
        self._end_transaction_without_se(where)
        if self.group is not None:
            self.problem(
                "missing_ge",
                f"group {self.group.control} has no GE trailer",
                where if next_isa else None,
                offset=len(self.text),
                fix="end every functional group with GE",
            )
            self.group = None
        self.problem(
            "missing_iea",
            f"the interchange {interchange.control} (segment {isa.number}) has no IEA trailer: the file"
            " may have been cut off in transfer",
            next_isa,
            offset=len(self.text),
            fix="send the whole file again; it must end with IEA",
        )
        if next_isa is not None:
            self.number -= 1  # the ISA is read again as the start of the next interchange


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def parse_problems(data: bytes | str) -> list[X12Problem]:
    """Every problem of a file (errors and warnings), for callers that only check."""
    return read_x12(data).problems


__all__ = [
    "Delimiters",
    "Group",
    "Interchange",
    "Segment",
    "Transaction",
    "X12Error",
    "X12File",
    "decode",
    "read_x12",
]
