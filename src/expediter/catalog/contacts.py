"""How a flow's owner is reached: an e-mail address, a phone number, or an alert channel."""

from __future__ import annotations

import re
from collections.abc import Collection
from enum import StrEnum

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_PHONE = re.compile(r"^\+?[\d ().-]{7,}$")


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CHANNEL = "channel"


def is_email_address(text: str) -> bool:
    return bool(_EMAIL.match(text.strip()))


def is_phone_number(text: str) -> bool:
    """``+1 212 555 0100``, ``(212) 555-0100``: 7 to 15 digits, written as people write them."""
    cleaned = text.strip()
    digits = sum(char.isdigit() for char in cleaned)
    return bool(_PHONE.match(cleaned)) and 7 <= digits <= 15


def contact_kind(text: str, channel_ids: Collection[str]) -> ContactKind | None:
    """What ``text`` reaches (``None``: nothing a person or the hub can use)."""
    if text.strip() in channel_ids:
        return ContactKind.CHANNEL
    if is_email_address(text):
        return ContactKind.EMAIL
    if is_phone_number(text):
        return ContactKind.PHONE
    return None
