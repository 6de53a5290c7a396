"""Online ordering settings, as written under ``[[systems]] settings`` in ``expediter.toml``.

The shared ``secret`` (a reference, ``env:NAME`` or ``file:PATH``) signs both directions: the
marketplace's webhooks in and the hub's status and availability posts out.
"""

from __future__ import annotations

import msgspec

from expediter.connectors.square.config import decode_settings


class OnlineSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    secret: str = ""
    """Secret reference to the HMAC key shared with the online ordering system."""
    status_url: str = ""
    """Where ``ticket_status`` (order ready for pickup) is POSTed."""
    availability_url: str = ""
    """Where ``availability`` (an item 86'd or back) is POSTed."""
    replay_window_seconds: int = 300
    """A webhook whose timestamp is further than this from the hub's clock is refused."""
    locations: dict[str, str] = {}
    """The online system's store id → hub location id; a store id not listed is used as is."""
    timeout_seconds: float = 10.0


SECRET_SETTINGS = frozenset({"secret"})


def online_settings(raw: dict[str, object], system_id: str) -> OnlineSettings:
    return decode_settings(raw, OnlineSettings, system_id)
