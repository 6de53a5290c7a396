"""Random secrets handed to browsers, and the only form in which the hub keeps them."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret() -> str:
    """A random credential (256 bits, URL-safe): session ids, device credentials, CSRF tokens."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the database keeps of a credential: its sha256, so a copy of the database is no key."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(given: str, expected: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
