"""Settings of an SFTP server the hub reads files from and writes files to."""

from __future__ import annotations

import msgspec


class SftpSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One SFTP account. ``password`` and ``private_key`` are secret references, never values.

    ``host_key`` pins the server: the OpenSSH public key line (``ssh-ed25519 AAAA...``) as printed by
    ``ssh-keyscan -t ed25519 HOST`` (without the host name) or found in the server's
    ``/etc/ssh/ssh_host_ed25519_key.pub``. A server presenting another key is refused.
    """

    host: str
    username: str
    host_key: str
    port: int = 22
    password: str | None = None
    """``env:NAME`` or ``file:PATH``."""
    private_key: str | None = None
    """``file:PATH`` of an OpenSSH private key; its passphrase, if any, in ``passphrase``."""
    passphrase: str | None = None
    inbox_dir: str = "."
    """Where incoming files are picked up (relative to the login folder, or absolute)."""
    upload_dir: str = "."
    """Where files are written."""
    done_dir: str = "done"
    failed_dir: str = "failed"
    pattern: str = "*"
    stable_seconds: float = 2.0
    connect_timeout: float = 15.0


SECRET_SETTINGS = frozenset({"password", "private_key", "passphrase"})
