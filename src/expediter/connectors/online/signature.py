"""The online ordering signature: HMAC-SHA256 over ``timestamp + "." + body``, with a replay window.

Headers: ``X-Expediter-Timestamp`` (Unix seconds) and ``X-Expediter-Signature: sha256=<hex>``.
Signing the timestamp lets the receiver refuse an old request replayed by someone who captured it;
the idempotency key refuses a replay inside the window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from expediter.connectors.square.signature import header
from expediter.model import clock
from expediter.plugin import SignatureInvalid

TIMESTAMP_HEADER = "X-Expediter-Timestamp"
SIGNATURE_HEADER = "X-Expediter-Signature"
_PREFIX = "sha256="


def online_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The headers that sign ``body`` now (or at ``now``, Unix seconds)."""
    timestamp = str(int(clock.unix_time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: online_signature(secret, timestamp, body)}


def verify_online_signature(
    headers: Mapping[str, str], body: bytes, *, secret: str, window_seconds: int, now: float | None = None
) -> None:
    """Raise :class:`SignatureInvalid` unless signed with ``secret`` within the replay window."""
    timestamp = header(headers, TIMESTAMP_HEADER)
    given = header(headers, SIGNATURE_HEADER)
    if not timestamp or not given:
        raise SignatureInvalid(
            f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header",
            hint="sign every request: sha256=hex(HMAC-SHA256(secret, timestamp + '.' + body))",
        )
    if not timestamp.isdigit():
        raise SignatureInvalid(f"{TIMESTAMP_HEADER} {timestamp!r} is not Unix seconds")
    expected = online_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise SignatureInvalid(
            "signature does not verify",
            hint="check that both sides use the same secret and sign the raw body exactly as sent",
        )
    _check_window(int(timestamp), window_seconds, clock.unix_time() if now is None else now)


def _check_window(timestamp: int, window_seconds: int, now: float) -> None:
    age = now - timestamp
    if age > window_seconds:
        raise SignatureInvalid(
            f"request signed {age:.0f} s ago, outside the {window_seconds} s replay window",
            hint=(
                "if it was sent just now, the sender's clock is behind the hub's (or the hub's is "
                "ahead): sync both with NTP; an old request replayed is refused on purpose"
            ),
        )
    if -age > window_seconds:
        raise SignatureInvalid(
            f"request dated {-age:.0f} s in the future, outside the {window_seconds} s replay window",
            hint="the sender's clock is ahead of the hub's (or the hub's is behind): sync both with NTP",
        )
