"""QuickBooks settings; the access token is a secret reference (``env:NAME`` or ``file:PATH``)."""

from __future__ import annotations

from typing import Literal

import msgspec


class QuickBooksSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    base_url: str = "https://quickbooks.api.intuit.com"
    """Any QBO-compatible base URL (the sandbox, a test stand-in)."""
    realm_id: str = ""
    access_token: str = "env:QBO_ACCESS_TOKEN"
    minor_version: int = 75
    account_ids: dict[str, str] = {}
    """Account name as mapped in ``[mappings]`` → QBO account Id. Names not listed are looked up
    through the QuickBooks Account query when posting; a name found nowhere is refused."""
    timeout_seconds: float = 30.0
    iif_name: str = ""
    """QuickBooks Desktop (IIF): the NAME on every line of the day's entry (an "Other Name" such
    as ``Daily Sales``); empty leaves NAME blank."""
    iif_class: Literal["", "location", "dimension"] = ""
    """QuickBooks Desktop (IIF): the CLASS of each line: ``location`` (the location's id, for
    class tracking by restaurant), ``dimension`` (the dining option, when revenue is split by
    it), or empty."""


SECRET_SETTINGS = frozenset({"access_token"})
