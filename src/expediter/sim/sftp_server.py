"""A local SFTP server (asyncssh's own) for the demo's back office and for tests.

It serves one folder on a loopback port, in a background thread with its own event loop, with fresh
host keys (one per type asked for, ed25519 by default) and a fresh password each start. Every client
write and rename is recorded in ``events`` so tests can check a file was written under a temporary
name and renamed, never written in place.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncssh

LOOPBACK = "127.0.0.1"


class AuditedSftp(asyncssh.SFTPServer):
    """asyncssh's SFTP server rooted in a folder, recording writes and renames."""

    events: list[tuple[Any, ...]]
    root: Path

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if pflags & asyncssh.FXF_WRITE:
            self.events.append(("write", self._relative(path)))
        return super().open(path, pflags, attrs)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        self._record_rename(oldpath, newpath)
        super().posix_rename(oldpath, newpath)

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        self._record_rename(oldpath, newpath)
        super().rename(oldpath, newpath)

    def _record_rename(self, oldpath: bytes, newpath: bytes) -> None:
        target = Path(self.map_path(newpath).decode())
        self.events.append(("rename", self._relative(oldpath), self._relative(newpath), target.exists()))

    def _relative(self, path: bytes) -> str:
        return str(Path(self.map_path(path).decode()).relative_to(self.root))


class SftpServer:
    """An SFTP server rooted in ``root``; ``username`` logs in with ``password`` or ``client_key``.

    ``host_key_types`` are the host keys it offers (e.g. ``("ssh-ed25519", "ssh-rsa")``, as
    OpenSSH servers offer several); ``host_key`` and ``host_key_line`` are the first one's.
    ``sftp_class`` serves the files (a subclass of :class:`AuditedSftp` may misbehave on purpose)."""

    sftp_class: type[AuditedSftp] = AuditedSftp

    def __init__(
        self,
        root: Path,
        *,
        username: str = "expediter",
        port: int = 0,
        host_key_types: Sequence[str] = ("ssh-ed25519",),
    ) -> None:
        self.root = root
        self.host = LOOPBACK
        self.port = port
        self.username = username
        self.password = secrets.token_urlsafe(16)
        self.host_keys = [asyncssh.generate_private_key(kind) for kind in host_key_types]
        self.host_key = self.host_keys[0]
        self.host_key_line = self.host_key.export_public_key().decode().strip()
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        """A key the server accepts for ``username``; :meth:`write_client_key` saves it for a test."""
        self.events: list[tuple[Any, ...]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sftp-server", daemon=True)
        self._thread.start()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings for an ``sftp`` system pointing here. The password is a reference,
        ``env:EXPEDITER_TEST_SFTP_PASSWORD``: the caller sets that variable to :attr:`password`
        (or overrides ``password`` with a reference of its own)."""
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "host_key": self.host_key_line,
            "password": "env:EXPEDITER_TEST_SFTP_PASSWORD",
        }
        return values | overrides

    def write_client_key(self, folder: Path) -> Path:
        """Save the accepted client private key (OpenSSH format) for ``private_key = "file:..."``."""
        path = folder / "sftp_client_key"
        self.client_key.write_private_key(path)
        path.chmod(0o600)
        return path

    def start(self) -> None:
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=30)

    def stop(self) -> None:
        """Stop listening and drop every open connection (a server going down)."""
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=30)

    def shutdown(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    async def _listen(self) -> None:
        server = self

        class Auth(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                server._connections.add(conn)

            def connection_lost(self, exc: Exception | None) -> None:
                server._connections.difference_update(c for c in list(server._connections) if c.is_closed())

            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return username == server.username and secrets.compare_digest(password, server.password)

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
                accepted = server.client_key.export_public_key()
                return username == server.username and key.export_public_key() == accepted

        def sftp_factory(chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
            sftp = server.sftp_class(chan, chroot=str(server.root).encode())
            sftp.events, sftp.root = server.events, server.root.resolve()
            return sftp

        self._acceptor = await asyncssh.listen(
            self.host,
            self.port,
            server_host_keys=self.host_keys,
            server_factory=Auth,
            sftp_factory=sftp_factory,
            allow_scp=False,
            config=None,
        )
        self.port = self._acceptor.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        for conn in list(self._connections):
            conn.close()
            await conn.wait_closed()
        self._connections.clear()


@contextmanager
def running_sftp_server(root: Path, **options: Any) -> Iterator[SftpServer]:
    server = SftpServer(root, **options)
    server.start()
    try:
        yield server
    finally:
        server.shutdown()
