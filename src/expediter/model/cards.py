"""Card numbers never enter the hub: a run of 13-19 digits that passes Luhn is refused.

The check runs on the raw payload before anything is stored or logged, and the error names only
where the number was, never the number. To keep order ids, dates and barcodes from tripping it, a
candidate is digits written as cards are written (contiguous, or in groups of four, or AmEx's
4-6-5) that start with a card network's prefix (2, 3, 4, 5 or 6), as DLP scanners do.
"""

from __future__ import annotations

import re
from typing import Any

from expediter.errors import RejectedInput

# Contiguous digits, 4-4-4-4(-1..3) groups, or AmEx 4-6-5, separated by one space or dash.
_CANDIDATE = re.compile(
    r"(?<![\d-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{5})(?![\d-])"
)
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
        digits = re.sub(r"[ -]", "", match.group())
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
