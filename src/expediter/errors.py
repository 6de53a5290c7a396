"""The error vocabulary: what went wrong decides what the engine does next.

::

    ExpediterError
     ├── RejectedInput      the input itself is bad: quarantine it, tell the sender (HTTP 4xx to them)
     ├── ConfigError        the catalog or a setting is wrong: stop and tell the systems manager
     └── DeliveryError      sending to a destination failed
          ├── TransientError   may work later (timeout, 5xx, 429, connection refused): retry with backoff
          └── TerminalError    will never work as it is (4xx, a redirect, bad credentials): dead-letter now

HTTP status codes from destinations are mapped to these in exactly one place:
:func:`error_for_status`. Only a 2xx answer delivers.
"""

from __future__ import annotations


class ExpediterError(Exception):
    """Base of every error Expediter raises on purpose."""


class RejectedInput(ExpediterError):
    """Input that will never be accepted as it is.

    ``where`` points at the bad part (a JSON path such as ``$.lines[2].quantity``, a CSV row and
    column, an X12 segment) and ``fix`` tells the sender what to change.
    """

    def __init__(self, message: str, *, where: str = "", fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix

    def __str__(self) -> str:
        parts = [self.message]
        if self.where:
            parts.append(f"at {self.where}")
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return " — ".join(parts)


class ConfigError(ExpediterError):
    """The catalog or a setting is wrong; the message says where and how to fix it."""


class DeliveryError(ExpediterError):
    """Sending something to a destination failed."""


class TransientError(DeliveryError):
    """May succeed later: the engine retries with exponential backoff and jitter.

    ``retry_after`` (seconds) is honoured when the destination asked for it.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TerminalError(DeliveryError):
    """Will never succeed as it is: the delivery goes to the dead letters at once."""


_TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


def error_for_status(status: int, detail: str = "", *, location: str | None = None) -> DeliveryError | None:
    """Map a destination's HTTP status to the retry class; ``None`` (success) for 2xx only.

    A redirect (3xx) is terminal: nothing arrived, and following it would send orders and
    credentials wherever the answer points. ``location`` is the answer's ``Location`` header, named
    in the error so the systems manager can check it and update the system's address.
    """
    if 200 <= status < 300:
        return None
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    if 300 <= status < 400:
        return TerminalError(f"{message} — {_redirect_text(location)}")
    if status >= 500 or status in _TRANSIENT_STATUSES:
        return TransientError(message)
    return TerminalError(message)


def _redirect_text(location: str | None) -> str:
    where = f"it points to {location}" if location else "it names no new location"
    return (
        f"a redirect, so nothing was delivered; {where}: if that is the destination's new address,"
        " put it in the system's settings"
    )
