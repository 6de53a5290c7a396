"""An SFTP server as a :class:`~expediter.plugin.transport.Transport`, over asyncssh.

The server's host key is pinned from the settings; nothing is read from ``~/.ssh`` (no user config,
no agent, no default keys), so the hub behaves the same on every machine. One connection is opened
lazily and reused; a broken one is dropped and the next call reconnects.

An upload writes a temporary name first. When the upload fails the temporary file is removed; when
that is impossible (the connection is gone, the process was killed) the first upload of a later
connection removes the temporary files of ours left in the upload folder: those it failed to remove
itself, and any other not written to for :data:`~expediter.plugin.transport.STALE_TEMP_AGE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import stat
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncssh
import structlog

from expediter.connectors.sftp.config import SftpSettings
from expediter.plugin import (
    ConfigError,
    Receipt,
    RemoteFile,
    TerminalError,
    TransientError,
    check_file_name,
    check_listed_name,
    is_stale_temp_file,
    matches,
    receipt_for,
    resolve_secret,
    temp_name,
    unique_done_name,
)
from expediter.plugin.transport import secret_path

T = TypeVar("T")
log = structlog.get_logger(__name__)


def pinned_key(line: str, *, label: str) -> asyncssh.SSHKey:
    """The public key from an OpenSSH line (``type base64 [comment]``); ``ConfigError`` otherwise."""
    parts = line.split()
    if parts and not parts[0].startswith(("ssh-", "ecdsa-", "sk-")) and len(parts) >= 3:
        parts = parts[1:]  # an ssh-keyscan / known_hosts line starts with the host name
    try:
        return asyncssh.import_public_key(" ".join(parts[:2]))
    except (asyncssh.KeyImportError, ValueError):
        raise ConfigError(
            f"{label}: settings.host_key is not an OpenSSH public key line; copy it from "
            "`ssh-keyscan -t ed25519 HOST` (e.g. 'ssh-ed25519 AAAAC3Nza...')"
        ) from None


def _is_regular_file(attrs: asyncssh.SFTPAttrs) -> bool:
    """From the SFTP type, or from the permission bits when an older server sends no type."""
    if attrs.type not in (None, asyncssh.FILEXFER_TYPE_UNKNOWN):
        return attrs.type == asyncssh.FILEXFER_TYPE_REGULAR
    return attrs.permissions is not None and stat.S_ISREG(attrs.permissions)


class SftpTransport:
    """Files on an SFTP server; folders come from :class:`SftpSettings`."""

    def __init__(self, settings: SftpSettings, *, label: str) -> None:
        self.settings = settings
        self.label = label
        self.server = f"{settings.host}:{settings.port}"
        self.endpoint = f"sftp://{settings.username}@{self.server}/{settings.inbox_dir.lstrip('/')}"
        self._host_key = pinned_key(settings.host_key, label=label)
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._connecting: asyncio.Lock | None = None
        self._swept = False
        self._leftovers: set[str] = set()
        """Temporary files an upload could not remove (the connection was gone): removed on the
        next connection."""

    # --- the Transport protocol ---

    async def upload(self, name: str, data: bytes) -> Receipt:
        check_file_name(name)
        target = posixpath.join(self.settings.upload_dir, name)

        async def write(sftp: asyncssh.SFTPClient) -> None:
            await self._sweep(sftp)
            temp = posixpath.join(self.settings.upload_dir, temp_name(name))
            try:
                async with sftp.open(temp, "wb") as handle:
                    await handle.write(data)
                await self._rename_replacing(sftp, temp, target)
            except BaseException:
                if not await self._quietly_remove(sftp, temp):
                    self._leftovers.add(temp)
                raise

        await self._run(write, f"upload {target}")
        return receipt_for(name, data, f"sftp://{self.server}/{target.lstrip('/')}")

    async def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        async def scan(sftp: asyncssh.SFTPClient) -> list[RemoteFile]:
            files = []
            for entry in await sftp.readdir(self.settings.inbox_dir):
                name = str(entry.filename)
                if _is_regular_file(entry.attrs) and matches(name, pattern):
                    mtime = datetime.fromtimestamp(entry.attrs.mtime or 0, UTC)
                    files.append(RemoteFile(name=name, size=entry.attrs.size or 0, mtime=mtime))
            return sorted(files, key=lambda f: f.name)

        return await self._run(scan, f"list {self.settings.inbox_dir}")

    async def download(self, name: str) -> bytes:
        check_listed_name(name)
        path = posixpath.join(self.settings.inbox_dir, name)

        async def read(sftp: asyncssh.SFTPClient) -> bytes:
            async with sftp.open(path, "rb") as handle:
                data = await handle.read()
            return data if isinstance(data, bytes) else data.encode()

        return await self._run(read, f"download {path}")

    async def move_to_done(self, name: str) -> str:
        return await self._move(name, self.settings.done_dir)

    async def move_to_failed(self, name: str) -> str:
        return await self._move(name, self.settings.failed_dir)

    async def close(self) -> None:
        conn, self._conn, self._sftp, self._connecting = self._conn, None, None, None
        self._swept = False
        if conn is not None:
            conn.close()
            await conn.wait_closed()

    # --- helpers ---

    async def _move(self, name: str, folder: str) -> str:
        check_listed_name(name)

        async def move(sftp: asyncssh.SFTPClient) -> str:
            await sftp.makedirs(folder, exist_ok=True)
            target = posixpath.join(folder, unique_done_name(name, set(await sftp.listdir(folder))))
            await sftp.rename(posixpath.join(self.settings.inbox_dir, name), target)
            return target

        return await self._run(move, f"move {name} to {folder}")

    async def _rename_replacing(self, sftp: asyncssh.SFTPClient, temp: str, target: str) -> None:
        """posix-rename replaces ``target`` in one step; servers without it get remove + rename
        (a short moment without the file, never a half file)."""
        try:
            await sftp.posix_rename(temp, target)
        except asyncssh.SFTPOpUnsupported:
            if await sftp.exists(target):
                await sftp.remove(target)
            await sftp.rename(temp, target)

    async def _quietly_remove(self, sftp: asyncssh.SFTPClient, path: str) -> bool:
        """Best effort (the original error matters more): whether ``path`` is gone."""
        try:
            await sftp.remove(path)
        except asyncssh.SFTPNoSuchFile:
            return True
        except (OSError, asyncssh.Error):
            return False
        return True

    async def _sweep(self, sftp: asyncssh.SFTPClient) -> None:
        """Once per connection, before its first upload: remove the temporary files of ours that
        earlier uploads left behind (see the module docstring). Never fails an upload."""
        if self._swept:
            return
        self._swept = True
        stale = set(self._leftovers)
        with contextlib.suppress(OSError, asyncssh.Error):
            for entry in await sftp.readdir(self.settings.upload_dir):
                modified = datetime.fromtimestamp(entry.attrs.mtime or 0, UTC)
                if is_stale_temp_file(str(entry.filename), modified):
                    stale.add(posixpath.join(self.settings.upload_dir, str(entry.filename)))
        for path in sorted(stale):
            if await self._quietly_remove(sftp, path):
                self._leftovers.discard(path)
                log.info("stale temporary file removed", server=self.server, path=path)

    async def _run(self, action: Callable[[asyncssh.SFTPClient], Awaitable[T]], what: str) -> T:
        """Run ``action`` on a live session, mapping every failure to the retry classes."""
        sftp = await self._session()
        try:
            return await action(sftp)
        except asyncssh.SFTPError as exc:
            error = self._sftp_error(exc, what)
            if isinstance(error, TransientError):
                await self._drop()  # e.g. SFTPConnectionLost: the session is no use any more
            raise error from None
        except (OSError, asyncssh.Error) as exc:
            await self._drop()
            raise TransientError(f"{self.label}: {what} on {self.server} failed: {exc}") from None

    def _sftp_error(self, exc: asyncssh.SFTPError, what: str) -> Exception:
        if isinstance(exc, asyncssh.SFTPNoSuchFile | asyncssh.SFTPPermissionDenied):
            return TerminalError(
                f"{self.label}: {what} on {self.server} refused: {exc.reason}; check that the folders "
                "in the system's settings (inbox_dir, upload_dir, done_dir, failed_dir) exist and "
                f"that user {self.settings.username} may write there"
            )
        return TransientError(f"{self.label}: {what} on {self.server} failed: {exc.reason}")

    async def _drop(self) -> None:
        try:
            await self.close()
        except (OSError, asyncssh.Error):
            self._conn = self._sftp = None

    async def _session(self) -> asyncssh.SFTPClient:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:  # two tasks at once must not open two connections
            if self._sftp is None:
                conn = await self._connect()
                try:
                    self._sftp = await conn.start_sftp_client()
                except (OSError, asyncssh.Error) as exc:
                    conn.close()
                    raise TransientError(
                        f"{self.label}: SFTP not available on {self.server}: {exc}"
                    ) from None
                self._conn = conn
            return self._sftp

    async def _connect(self) -> asyncssh.SSHClientConnection:
        try:
            return await asyncssh.connect(self.settings.host, self.settings.port, **self._connect_options())
        except asyncssh.HostKeyNotVerifiable:
            raise TerminalError(await self._host_key_message()) from None
        except asyncssh.PermissionDenied:
            raise TerminalError(self._auth_message()) from None
        except asyncssh.Error as exc:
            # The key exchange fails (or the server hangs up) when it has no host key of the
            # pinned type: re-keyed with another type. Say so, instead of retrying for ever.
            message = await self._other_key_type_message()
            if message is not None:
                raise TerminalError(message) from None
            raise self._unreachable(exc) from None
        except (OSError, TimeoutError) as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: BaseException) -> TransientError:
        return TransientError(
            f"{self.label}: cannot reach SFTP server {self.server}: {exc or type(exc).__name__}"
        )

    def _connect_options(self) -> dict[str, Any]:
        settings = self.settings
        options: dict[str, Any] = {
            "username": settings.username,
            "known_hosts": ([self._host_key], [], []),
            "config": None,
            "agent_path": None,
            "client_keys": None,
            "password": None,
            "connect_timeout": settings.connect_timeout,
            "login_timeout": settings.connect_timeout,
        }
        if settings.password:
            options["password"] = resolve_secret(settings.password, setting=f"{self.label}: password")
        if settings.private_key:
            options["client_keys"] = [self._private_key()]
        if not (settings.password or settings.private_key):
            raise ConfigError(f"{self.label}: set settings.password or settings.private_key")
        return options

    def _private_key(self) -> asyncssh.SSHKey:
        assert self.settings.private_key is not None
        path = secret_path(self.settings.private_key, setting=f"{self.label}: private_key")
        passphrase = None
        if self.settings.passphrase:
            passphrase = resolve_secret(self.settings.passphrase, setting=f"{self.label}: passphrase")
        try:
            return asyncssh.read_private_key(path, passphrase)
        except (OSError, asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
            raise ConfigError(f"{self.label}: cannot load private key {path}: {exc}") from None

    def _pinned(self) -> str:
        return f"{self._host_key.get_algorithm()} {self._host_key.get_fingerprint()}"

    async def _presented_key(self, *, pinned_type: bool) -> asyncssh.SSHKey | None:
        """The host key the server presents: of the pinned key's type, or of its own choice."""
        algorithms = [alg.decode() for alg in self._host_key.sig_algorithms] if pinned_type else ()
        try:
            return await asyncio.wait_for(
                asyncssh.get_server_host_key(
                    self.settings.host, self.settings.port, server_host_key_algs=algorithms, config=None
                ),
                self.settings.connect_timeout,
            )
        except (OSError, TimeoutError, asyncssh.Error):
            return None

    async def _host_key_message(self) -> str:
        message = (
            f"the host key of {self.server} is not the one pinned in the catalog ({self.label}; "
            f"pinned {self._pinned()})."
        )
        presented = await self._presented_key(pinned_type=True)
        if presented is None:
            return f"{message} If the server was re-keyed, update settings.host_key to its new key."
        return f"{message} The server offered {_described(presented)}. {_rekeyed_fix(presented)}"

    async def _other_key_type_message(self) -> str | None:
        """Why the key exchange failed when the server offers no host key of the pinned type;
        ``None`` when it does, or cannot be reached to tell."""
        if await self._presented_key(pinned_type=True) is not None:
            return None
        presented = await self._presented_key(pinned_type=False)
        if presented is None:
            return None
        return (
            f"SFTP server {self.server} offers no {self._host_key.get_algorithm()} host key, the type "
            f"pinned in the catalog ({self.label}; pinned {self._pinned()}): it offered "
            f"{_described(presented)}. {_rekeyed_fix(presented)}"
        )

    def _auth_message(self) -> str:
        how = "private key" if self.settings.private_key else "password"
        ref = self.settings.private_key or self.settings.password or ""
        return (
            f"SFTP server {self.server} refused the login of user {self.settings.username} "
            f"({self.label}, {how} from {ref}); "
            "check the user name and the secret it refers to"
        )


def _described(key: asyncssh.SSHKey) -> str:
    return f"{key.get_algorithm()} {key.get_fingerprint()}"


def _rekeyed_fix(presented: asyncssh.SSHKey) -> str:
    line = presented.export_public_key().decode().strip()
    return f"If the server was re-keyed (confirm with its administrator), update settings.host_key to: {line}"
