"""QuickBooks settings; the access token is a secret reference (``env:NAME`` or ``file:PATH``)."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from expediter.errors import ConfigError


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


def resolve_secret(reference: str) -> str:
    """Read a secret from where the reference points; inline secrets are refused."""
    kind, _, name = reference.partition(":")
    if kind == "env" and name:
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"secret {reference}: environment variable {name} is not set")
        return value
    if kind == "file" and name:
        try:
            return Path(name).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"secret {reference}: cannot read {name}: {exc.strerror}") from exc
    raise ConfigError(
        "a secret must be a reference such as 'env:QBO_ACCESS_TOKEN' or 'file:/run/secrets/qbo'"
    )
