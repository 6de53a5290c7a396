"""Secrets are referenced from the catalog, never written in it: ``env:NAME`` or ``file:PATH``.

A catalog is shared, committed and pasted into tickets; a password in it leaks. So every setting that
holds a secret names where the secret lives, and the hub reads it at start. API tokens are stored only
as ``sha256:<hex>`` of the token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from expediter.catalog.schema import ApiToken, Catalog
from expediter.errors import ConfigError

ENV_PREFIX = "env:"
FILE_PREFIX = "file:"
TOKEN_FORM = re.compile(r"^sha256:[0-9a-f]{64}$")
_SECRET_KEY_ENDINGS = (
    "password",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "signature_key",
    "signing_key",
)


class SecretUnavailable(ConfigError):
    """A secret reference that does not resolve; the message names the variable or file, never a value."""


def is_reference(value: object) -> bool:
    return isinstance(value, str) and value.startswith((ENV_PREFIX, FILE_PREFIX))


def looks_secret(key: str) -> bool:
    """Whether a setting's name says it holds a secret (``password``, ``webhook_secret``, ``api_key``)."""
    lowered = key.lower()
    return lowered.endswith(_SECRET_KEY_ENDINGS)


def resolve_secret(ref: str, base_dir: Path | None = None, *, setting: str = "") -> str:
    """The secret that ``ref`` points at. ``file:`` paths are relative to the catalog's folder.

    A file's trailing newline is dropped (editors add one). ``setting`` names where the reference
    was written (``systems[pos].settings.token``) in the error; no error ever shows a value, and a
    value pasted inline is not echoed either (it may be the password itself).
    """
    try:
        if ref.startswith(ENV_PREFIX):
            return _from_env(ref.removeprefix(ENV_PREFIX))
        if ref.startswith(FILE_PREFIX):
            return _from_file(ref.removeprefix(FILE_PREFIX), base_dir)
        raise SecretUnavailable(
            "must be a secret reference: a secret must be a reference, `env:NAME` (an environment"
            " variable) or `file:PATH`, never the secret itself"
        )
    except SecretUnavailable as exc:
        if setting:
            raise SecretUnavailable(f"{setting}: {exc}") from None
        raise


_URL_PASSWORD = re.compile(
    r"^(?P<head>postgres(?:ql)?://[^/@:]+:)(?P<password>(?:env|file):[^@]+)(?P<tail>@.*)$"
)


def resolve_database(database: str, base_dir: Path | None = None) -> str:
    """``hub.database`` with its secret resolved: the whole URL as a reference
    (``env:EXPEDITER_DATABASE``, ``file:secrets/database-url``), or a URL whose password is one
    (``postgresql://expediter:env:DB_PASSWORD@db/expediter``). Anything else is returned as is.
    Resolved where the database is opened, so the catalog never holds the secret."""
    if is_reference(database):
        return resolve_secret(database, base_dir, setting="hub.database")
    found = _URL_PASSWORD.match(database)
    if found is None:
        return database
    password = resolve_secret(found["password"], base_dir, setting="hub.database (its password)")
    return f"{found['head']}{quote(password, safe='')}{found['tail']}"


_NATS_PASSWORD = re.compile(
    r"^(?P<head>(?:nats|tls)://[^/@:]+:)(?P<password>(?:env|file):[^@]+)(?P<tail>@.*)$"
)


def resolve_bus_servers(url: str | list[str], base_dir: Path | None = None) -> list[str]:
    """``hub.bus.url`` as the list of server URLs a client connects to: a list, or one string of
    comma-separated URLs; the whole value, or a URL's password, may be a secret reference."""
    values = [url] if isinstance(url, str) else list(url)
    servers: list[str] = []
    for value in values:
        if is_reference(value):
            value = resolve_secret(value, base_dir, setting="hub.bus.url")
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            found = _NATS_PASSWORD.match(part)
            if found is not None:
                password = resolve_secret(found["password"], base_dir, setting="hub.bus.url (a password)")
                part = f"{found['head']}{quote(password, safe='')}{found['tail']}"
            servers.append(part)
    return servers


def _from_env(name: str) -> str:
    if not name:
        raise SecretUnavailable("`env:` needs a variable name, e.g. `env:SQUARE_TOKEN`")
    value = os.environ.get(name)
    if not value:
        raise SecretUnavailable(f"environment variable {name} is not set (or is empty)")
    return value


def _from_file(name: str, base_dir: Path | None) -> str:
    if not name:
        raise SecretUnavailable("`file:` needs a path, e.g. `file:secrets/square_token`")
    path = Path(name).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SecretUnavailable(f"secret file {path} cannot be read ({exc.strerror or exc})") from exc
    if not value:
        raise SecretUnavailable(f"secret file {path} is empty")
    return value


def hash_token(token: str) -> str:
    """What goes in ``[[api_tokens]] sha256 = ...`` for ``token``."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def verify_token(token: str, catalog: Catalog) -> ApiToken | None:
    """The API token entry matching ``token``; every entry is compared in constant time."""
    digest = hash_token(token)
    found: ApiToken | None = None
    for entry in catalog.api_tokens:
        if hmac.compare_digest(digest.encode(), entry.sha256.lower().encode()):
            found = entry
    return found


def anchor_file_references(value: Any, folder: Path) -> Any:
    """``value`` (settings, possibly nested) with every relative ``file:`` reference made absolute
    against ``folder`` (the catalog's), so a secret file is the same whichever folder the hub is
    started from: the one ``expediter check`` looked at."""
    if isinstance(value, dict):
        return {key: anchor_file_references(item, folder) for key, item in value.items()}
    if isinstance(value, list):
        return [anchor_file_references(item, folder) for item in value]
    if isinstance(value, str) and value.startswith(FILE_PREFIX):
        path = Path(value.removeprefix(FILE_PREFIX)).expanduser()
        return value if path.is_absolute() else f"{FILE_PREFIX}{folder / path}"
    return value
