"""Settings of an FTP or FTPS (explicit TLS) server."""

from __future__ import annotations

import msgspec


class FtpSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One FTP account. ``password`` is a secret reference (``env:NAME`` / ``file:PATH``).

    Use ``tls = true`` (FTPS, explicit ``AUTH TLS``) whenever the server offers it: plain FTP sends the
    password in clear text. The server's certificate is verified against the system's trust store, or
    against ``ca_file`` (a PEM file: the server's own certificate when it is self-signed).
    """

    host: str
    username: str
    password: str
    port: int = 21
    tls: bool = False
    ca_file: str | None = None
    inbox_dir: str = "."
    """Where incoming files are picked up (relative to the login folder, or absolute)."""
    upload_dir: str = "."
    done_dir: str = "done"
    failed_dir: str = "failed"
    pattern: str = "*"
    stable_seconds: float = 2.0
    passive: bool = True
    timeout: float = 30.0


SECRET_SETTINGS = frozenset({"password"})
