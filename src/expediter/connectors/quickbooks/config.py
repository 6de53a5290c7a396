"""QuickBooks settings; the access token is a secret reference (``env:NAME`` or ``file:PATH``)."""

from __future__ import annotations

import msgspec


class QuickBooksSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    base_url: str = "https://quickbooks.api.intuit.com"
    """Any QBO-compatible base URL (the sandbox, a test stand-in)."""
    realm_id: str = ""
    access_token: str = "env:QBO_ACCESS_TOKEN"
    minor_version: int = 75
    account_ids: dict[str, str] = {}
    """Account name as mapped in ``[mappings]`` → QBO account Id; unmapped names are sent as is."""
    timeout_seconds: float = 30.0


SECRET_SETTINGS = frozenset({"access_token"})
