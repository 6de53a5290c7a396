"""Card numbers never enter the hub: a run of 13-19 digits that passes Luhn is refused.

The check runs on the raw payload before anything is stored or logged, and the error names only
where the number was, never the number. To keep order ids, dates and barcodes from tripping it, a
candidate is digits written as cards are written (contiguous; groups of four; AmEx's 4-6-5;
Diners' 4-6-4; two groups of eight) that start with a card network's prefix (2, 3, 4, 5 or 6), as
DLP scanners do. Groups may be separated by a space, a no-break space, a dash or a dot, and any
Unicode decimal digits count (a number typed in fullwidth digits is still a card number).
"""

from __future__ import annotations

import re
from typing import Any

from expediter.errors import RejectedInput

_SEPARATOR = r"[ \u00a0.-]"
# Contiguous digits, 4-4-4-1..7 or 4-4-4-4-1..3, AmEx 4-6-5, Diners 4-6-4 or 8-8, one separator throughout.
# ``\d`` is any Unicode decimal digit (str patterns).
_CANDIDATE = re.compile(
    r"(?<![\d-])(?:\d{13,19}"
    rf"|\d{{4}}({_SEPARATOR})\d{{4}}\1\d{{4}}\1(?:\d{{4}}\1\d{{1,3}}|\d{{1,7}})"
    rf"|\d{{4}}({_SEPARATOR})\d{{6}}\2\d{{4,5}}"
    rf"|\d{{8}}({_SEPARATOR})\d{{8}})(?![\d-])"
)
_NOT_DIGITS = re.compile(r"\D")
_NETWORK_PREFIXES = ("2", "3", "4", "5", "6")


def luhn_valid(digits: str) -> bool:
    checksum = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        checksum += value
    return checksum % 10 == 0


def contains_card_number(text: str) -> bool:
    for match in _CANDIDATE.finditer(text):
        digits = "".join(str(int(char)) for char in _NOT_DIGITS.sub("", match.group()))  # to ASCII
        if 13 <= len(digits) <= 19 and digits.startswith(_NETWORK_PREFIXES) and luhn_valid(digits):
            return True
    return False


def find_card_number(value: Any, path: str = "$") -> str | None:
    """The JSON path of the first string or number that looks like a full card number.

    Object keys are checked too (``{"notes": {"4111...": "x"}}``); such a hit is reported as
    ``$.notes.<a key>`` so the path never carries the number itself.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_scalar_text(key) and contains_card_number(str(key)):
                return f"{path}.<a key>"
            found = find_card_number(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_card_number(item, f"{path}[{index}]")
            if found:
                return found
    elif _is_scalar_text(value) and contains_card_number(str(value)):
        return path
    return None


def _is_scalar_text(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def refuse_card_numbers(payload: Any) -> None:
    """Raise :class:`RejectedInput` when ``payload`` (decoded JSON) carries a full card number."""
    path = find_card_number(payload)
    if path is not None:
        raise RejectedInput(
            "the payload contains what looks like a full card number; it was not stored",
            where=path,
            fix="send only the last four digits (e.g. in payments[].last4), never the full number",
        )


def raw_contains_card_number(raw: bytes) -> bool:
    """Fast pre-check on raw bytes (a payload with no such digit run skips the JSON walk)."""
    return contains_card_number(raw.decode("utf-8", errors="replace"))


def mask_card_numbers(text: str) -> str:
    """``text`` with every full card number (as :func:`contains_card_number` finds them) shown as
    ``•••• 1111``: what a page may show of a stored payload that came in some other way."""

    def mask(match: re.Match[str]) -> str:
        digits = "".join(str(int(char)) for char in _NOT_DIGITS.sub("", match.group()))
        if 13 <= len(digits) <= 19 and digits.startswith(_NETWORK_PREFIXES) and luhn_valid(digits):
            return f"•••• {digits[-4:]}"
        return match.group()

    return _CANDIDATE.sub(mask, text)
