"""An FTP or FTPS server as a :class:`~expediter.plugin.transport.Transport`, over stdlib ftplib.

ftplib blocks, so every operation opens a session in a worker thread (``asyncio.to_thread``), does
its work and logs out: nothing stale survives a server restart, and FTP servers commonly drop idle
sessions anyway. FTPS is explicit TLS (``AUTH TLS``) with the data channel protected (``PROT P``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ftplib
import io
import posixpath
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from expediter.connectors.ftp.config import FtpSettings
from expediter.plugin import (
    ConfigError,
    Receipt,
    RemoteFile,
    TerminalError,
    TransientError,
    check_file_name,
    check_listed_name,
    matches,
    receipt_for,
    resolve_secret,
    temp_name,
    unique_done_name,
)

T = TypeVar("T")
_MLSD_FACTS = ("type", "size", "modify")


class FtpTransport:
    """Files on an FTP/FTPS server; folders come from :class:`FtpSettings`."""

    def __init__(self, settings: FtpSettings, *, label: str) -> None:
        self.settings = settings
        self.label = label
        self.server = f"{settings.host}:{settings.port}"
        scheme = "ftps" if settings.tls else "ftp"
        self.endpoint = f"{scheme}://{settings.username}@{self.server}/{settings.inbox_dir.lstrip('/')}"
        self._lists_with_mlsd = True

    # --- the Transport protocol ---

    async def upload(self, name: str, data: bytes) -> Receipt:
        check_file_name(name)
        target = posixpath.join(self.settings.upload_dir, name)
        await self._run(lambda ftp: self._write_then_rename(ftp, target, data), f"upload {target}")
        scheme = "ftps" if self.settings.tls else "ftp"
        return receipt_for(name, data, f"{scheme}://{self.server}/{target.lstrip('/')}")

    async def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        return await self._run(lambda ftp: self._list(ftp, pattern), f"list {self.settings.inbox_dir}")

    async def download(self, name: str) -> bytes:
        check_listed_name(name)
        path = posixpath.join(self.settings.inbox_dir, name)

        def read(ftp: ftplib.FTP) -> bytes:
            buffer = io.BytesIO()
            ftp.retrbinary(f"RETR {path}", buffer.write)
            return buffer.getvalue()

        return await self._run(read, f"download {path}")

    async def move_to_done(self, name: str) -> str:
        return await self._move(name, self.settings.done_dir)

    async def move_to_failed(self, name: str) -> str:
        return await self._move(name, self.settings.failed_dir)

    async def close(self) -> None:
        return None  # sessions live for one operation

    # --- blocking parts, run in a worker thread ---

    def _write_then_rename(self, ftp: ftplib.FTP, target: str, data: bytes) -> None:
        temp = posixpath.join(posixpath.dirname(target), temp_name(posixpath.basename(target)))
        try:
            ftp.storbinary(f"STOR {temp}", io.BytesIO(data))
            self._rename_replacing(ftp, temp, target)
        except BaseException:
            self._quietly_delete(ftp, temp)
            raise

    def _rename_replacing(self, ftp: ftplib.FTP, temp: str, target: str) -> None:
        """Rename over ``target``; servers that refuse to overwrite (Windows IIS) get delete + rename."""
        try:
            ftp.rename(temp, target)
        except ftplib.error_perm:
            if not self._exists(ftp, target):
                raise
            ftp.delete(target)
            ftp.rename(temp, target)

    def _exists(self, ftp: ftplib.FTP, path: str) -> bool:
        folder, name = posixpath.split(path)
        try:
            return name in {posixpath.basename(n) for n in ftp.nlst(folder or ".")}
        except ftplib.error_perm:
            return False

    def _quietly_delete(self, ftp: ftplib.FTP, path: str) -> None:
        # The original error is what matters; a stray temp file is never listed as incoming.
        with contextlib.suppress(ftplib.Error, OSError, EOFError):
            ftp.delete(path)

    def _list(self, ftp: ftplib.FTP, pattern: str) -> list[RemoteFile]:
        entries = self._mlsd(ftp) if self._lists_with_mlsd else None
        if entries is None:
            return self._list_without_mlsd(ftp, pattern)
        files = [
            RemoteFile(name=name, size=int(facts.get("size", 0)), mtime=_mlsd_time(facts.get("modify", "")))
            for name, facts in entries
            if facts.get("type") == "file" and matches(name, pattern)
        ]
        return sorted(files, key=lambda f: f.name)

    def _mlsd(self, ftp: ftplib.FTP) -> list[tuple[str, dict[str, str]]] | None:
        """The inbox as MLSD lists it, or ``None`` for a server that does not list that way: any
        5xx to ``OPTS MLST`` (vsftpd answers 501), or 500/502 to ``MLSD`` itself. The answer is
        kept for this transport's later sessions. Other refusals (a missing folder) raise."""
        try:
            ftp.sendcmd(f"OPTS MLST {';'.join(_MLSD_FACTS)};")
        except ftplib.error_perm:
            self._lists_with_mlsd = False
            return None
        try:
            return list(ftp.mlsd(self.settings.inbox_dir))
        except ftplib.error_perm as exc:
            if not str(exc).startswith(("500", "502")):
                raise
            self._lists_with_mlsd = False
            return None

    def _list_without_mlsd(self, ftp: ftplib.FTP, pattern: str) -> list[RemoteFile]:
        """For servers without MLSD: NLST, then SIZE and MDTM per file (directories fail SIZE and
        are skipped). Some (vsftpd) list a missing folder as empty, so the folder is entered first:
        a missing one is refused with 550 like any other."""
        home = ftp.pwd()
        ftp.cwd(self.settings.inbox_dir)
        ftp.cwd(home)
        ftp.voidcmd("TYPE I")
        files = []
        for entry in ftp.nlst(self.settings.inbox_dir):
            name = posixpath.basename(entry)
            if not matches(name, pattern):
                continue
            path = posixpath.join(self.settings.inbox_dir, name)
            try:
                size = ftp.size(path)
                modified = ftp.voidcmd(f"MDTM {path}").split()[-1]
            except ftplib.error_perm:
                continue
            files.append(RemoteFile(name=name, size=size or 0, mtime=_mlsd_time(modified)))
        return sorted(files, key=lambda f: f.name)

    def _move_blocking(self, ftp: ftplib.FTP, name: str, folder: str) -> str:
        with contextlib.suppress(ftplib.error_perm):  # already there; a real problem shows below
            ftp.mkd(folder)
        existing = {posixpath.basename(n) for n in ftp.nlst(folder)}
        target = posixpath.join(folder, unique_done_name(name, existing))
        ftp.rename(posixpath.join(self.settings.inbox_dir, name), target)
        return target

    async def _move(self, name: str, folder: str) -> str:
        check_listed_name(name)
        return await self._run(lambda ftp: self._move_blocking(ftp, name, folder), f"move {name} to {folder}")

    # --- sessions and errors ---

    async def _run(self, action: Callable[[ftplib.FTP], T], what: str) -> T:
        password = resolve_secret(self.settings.password, setting=f"{self.label}: password")
        context = self._tls_context() if self.settings.tls else None
        return await asyncio.to_thread(self._session, action, what, password, context)

    def _session(
        self, action: Callable[[ftplib.FTP], T], what: str, password: str, context: ssl.SSLContext | None
    ) -> T:
        try:
            ftp = self._login(password, context)
        except ftplib.error_perm as exc:
            raise self._login_error(exc) from None
        except (OSError, EOFError, ftplib.Error) as exc:
            raise self._connection_error(exc) from None
        try:
            result = action(ftp)
        except ftplib.error_perm as exc:
            raise TerminalError(
                f"{self.label}: {what} on {self.server} refused: {exc}; check that the folders in the "
                "system's settings (inbox_dir, upload_dir, done_dir, failed_dir) exist and that user "
                f"{self.settings.username} may write there"
            ) from None
        except (OSError, EOFError, ftplib.Error) as exc:
            raise TransientError(f"{self.label}: {what} on {self.server} failed: {exc}") from None
        finally:
            _close(ftp)
        return result

    def _login(self, password: str, context: ssl.SSLContext | None) -> ftplib.FTP:
        timeout = self.settings.timeout
        ftp = (
            _SessionReusingFtpTls(context=context, timeout=timeout)
            if context
            else ftplib.FTP(timeout=timeout)
        )
        try:
            ftp.connect(self.settings.host, self.settings.port)
            ftp.login(self.settings.username, password)  # FTP_TLS sends AUTH TLS first
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()
            ftp.set_pasv(self.settings.passive)
        except BaseException:
            ftp.close()
            raise
        return ftp

    def _tls_context(self) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(cafile=self.settings.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"{self.label}: cannot load ca_file {self.settings.ca_file}: {exc}") from None
        context.sslsocket_class = _DataChannelSocket
        return context

    def _login_error(self, exc: ftplib.error_perm) -> TerminalError:
        if str(exc).startswith("530"):
            return TerminalError(
                f"FTP server {self.server} refused the login of user {self.settings.username} "
                f"({self.label}, password from {self.settings.password}); check the user name and "
                "the secret it refers to"
            )
        hint = ""
        if "TLS" in str(exc).upper() and not self.settings.tls:
            hint = "; the server requires FTPS: set settings.tls = true"
        return TerminalError(f"FTP server {self.server} refused the session ({self.label}): {exc}{hint}")

    def _connection_error(self, exc: BaseException) -> TransientError | TerminalError:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return TerminalError(
                f"the TLS certificate of FTPS server {self.server} is not trusted ({self.label}): "
                f"{exc.verify_message}; if the server uses its own certificate, set settings.ca_file "
                "to a PEM copy of it"
            )
        return TransientError(
            f"{self.label}: cannot reach FTP server {self.server}: {exc or type(exc).__name__}"
        )


class _SessionReusingFtpTls(ftplib.FTP_TLS):
    """FTPS whose data connections resume the control connection's TLS session.

    vsftpd (``require_ssl_reuse=YES``, its default) and other hardened servers refuse a data
    connection that starts a new TLS session, answering ``522``; stdlib ftplib starts a new one.
    """

    def ntransfercmd(self, cmd: str, rest: int | str | None = None) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:  # type: ignore[attr-defined]
            session = self.sock.session if isinstance(self.sock, ssl.SSLSocket) else None
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


class _DataChannelSocket(ssl.SSLSocket):
    """A TLS socket whose closing handshake may fail harmlessly.

    ftplib ends every FTPS data transfer with ``unwrap()``. Under TLS 1.3, a server that closes a
    short data connection (an empty listing, a small file) before the client has read its session
    tickets makes OpenSSL report ``SHUTDOWN_WHILE_IN_INIT`` (CPython issue 75908, OpenSSL 25798)
    although every byte arrived. The server's ``226`` reply on the protected control channel, which
    ftplib reads next, is what confirms the transfer, so the failed goodbye is ignored. ftplib only
    unwraps data connections, so the control channel is unaffected.
    """

    def unwrap(self) -> socket.socket:
        try:
            return super().unwrap()
        except (ssl.SSLError, OSError):
            return self


def _close(ftp: ftplib.FTP) -> None:
    """Log out politely; the work is done, so a failing QUIT is not an error worth a retry."""
    with contextlib.suppress(OSError, EOFError, ftplib.Error):
        ftp.quit()
    ftp.close()


def _mlsd_time(value: str) -> datetime:
    """``YYYYMMDDHHMMSS[.sss]`` in UTC (RFC 3659); the epoch when the server gave none."""
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
