"""Writing X12: segments joined with our separators inside an ISA/GS/ST envelope.

We write ``*`` elements, ``>`` components and ``~`` segment terminators followed by a line break
(readable by hand, accepted by every translator), version 00401/004010. The ISA is fixed width as
the standard requires (ids padded to 15, ISA02/04 to 10). A value that contains one of the
separators has it replaced by a space: it would otherwise split an element.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from expediter.formats.x12.control import ControlNumbers

ELEMENT, COMPONENT, TERMINATOR = "*", ">", "~"
_UNSAFE = str.maketrans({ELEMENT: " ", COMPONENT: " ", TERMINATOR: " ", "\r": " ", "\n": " ", "^": " "})


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """Who sends to whom: our id and the trading partner's, with their ISA qualifiers."""

    sender_id: str
    receiver_id: str
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    group_sender: str = ""
    """GS02; the ISA sender id when empty."""
    group_receiver: str = ""
    usage: str = "P"
    """ISA15: ``P`` production or ``T`` test."""

    @property
    def partner(self) -> str:
        """The key control numbers are counted under."""
        return f"{self.receiver_qualifier}:{self.receiver_id}"


def clean(value: object) -> str:
    return str(value).translate(_UNSAFE)


def segment(*elements: object) -> str:
    """One segment, trailing empty elements dropped (the standard forbids them)."""
    parts = [clean(e) if e is not None else "" for e in elements]
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return ELEMENT.join(parts) + TERMINATOR


def transaction(code: str, control: str, body: list[str]) -> list[str]:
    """ST ... SE around ``body`` (already written segments); SE01 counts ST and SE too."""
    return [segment("ST", code, control), *body, segment("SE", len(body) + 2, control)]


def interchange(
    envelope: Envelope,
    functional_id: str,
    transactions: list[list[str]],
    numbers: ControlNumbers,
    when: datetime,
) -> tuple[str, int]:
    """A whole interchange of one group, and the control number it was given (ISA13 = GS06)."""
    number = numbers.allocate(envelope.partner)
    control = f"{number:09d}"
    isa = ELEMENT.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            envelope.sender_qualifier.ljust(2)[:2],
            clean(envelope.sender_id).ljust(15)[:15],
            envelope.receiver_qualifier.ljust(2)[:2],
            clean(envelope.receiver_id).ljust(15)[:15],
            when.strftime("%y%m%d"),
            when.strftime("%H%M"),
            "U",
            "00401",
            control,
            "0",
            envelope.usage,
            COMPONENT,
        ]
    )
    lines = [isa + TERMINATOR]
    lines.append(
        segment(
            "GS",
            functional_id,
            envelope.group_sender or envelope.sender_id,
            envelope.group_receiver or envelope.receiver_id,
            when.strftime("%Y%m%d"),
            when.strftime("%H%M"),
            number,
            "X",
            "004010",
        )
    )
    for body in transactions:
        lines.extend(body)
    lines.append(segment("GE", len(transactions), number))
    lines.append(segment("IEA", 1, control))
    return "\n".join(lines) + "\n", number
