"""Square settings, as written under ``[[systems]] settings`` in ``expediter.toml``.

Secrets (``signature_key``, ``access_token``) are references (``env:NAME`` or ``file:PATH``), never the
secret itself; :func:`resolve_secret` reads them when a connector is built, so a missing secret is a
``ConfigError`` at start-up rather than a failed delivery at lunch.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from expediter.plugin import ConfigError

T = TypeVar("T", bound=msgspec.Struct)

BASE_URLS = {
    "production": "https://connect.squareup.com",
    "sandbox": "https://connect.squareupsandbox.com",
}
"""Named Square environments; any other value of ``base_url`` is used as is (e.g. the local stand-in)."""

DEFAULT_SQUARE_VERSION = "2024-01-18"


class SquareSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    signature_key: str = ""
    """Secret reference to the webhook subscription's signature key."""
    notification_url: str = ""
    """The URL exactly as registered in Square's webhook subscription (Square signs it). Empty: the
    hub's ``public_url`` + ``/api/v1/webhooks/<system id>``."""
    access_token: str = ""
    """Secret reference to the OAuth or personal access token used to fetch orders."""
    base_url: str = "production"
    """``production``, ``sandbox`` or a URL (the local stand-in in tests and the demo)."""
    square_version: str = DEFAULT_SQUARE_VERSION
    """Sent as the ``Square-Version`` header, pinning the API shape the mapping was written for."""
    locations: dict[str, str] = {}
    """Square location id → hub location id. Polling covers exactly these Square locations."""
    timeout_seconds: float = 10.0
    poll_minutes: int = 0
    """Every this many minutes, search the orders updated since the last poll (plus a margin) and
    store what the webhooks missed; 0 turns the polling fallback off."""

    def api_base(self) -> str:
        return BASE_URLS.get(self.base_url, self.base_url).rstrip("/")


SECRET_SETTINGS = frozenset({"signature_key", "access_token"})


def decode_settings(raw: dict[str, object], settings_type: type[T], system_id: str) -> T:
    """The system's settings as ``settings_type``; a ``ConfigError`` naming the bad key otherwise."""
    try:
        return msgspec.convert(raw, settings_type)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"systems[{system_id}].settings: {exc}") from exc


def square_settings(raw: dict[str, object], system_id: str) -> SquareSettings:
    return decode_settings(raw, SquareSettings, system_id)
