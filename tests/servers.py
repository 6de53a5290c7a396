"""Real file servers on loopback for tests: SFTP (asyncssh's own server), FTP / FTPS (pyftpdlib)
and Debian's vsftpd (FTP / FTPS, a separate process).

Each server serves a temporary folder, listens on a free port of 127.0.0.1 (bind port 0), runs in a
background thread of this test process and is stopped by its fixture. ``stop()`` and ``start()``
can be called in a test to simulate a server that goes down and comes back on the same port.

vsftpd (:class:`VsftpdServer`) runs as its own process with its own configuration in a temporary
folder, on a free loopback port, and is stopped by its process id.

Use the pytest fixtures (``sftp_server``, ``ftp_server``, ``ftps_server``, ``vsftpd_server``,
``vsftpd_ftps_server``) by importing them into
the ``conftest.py`` of a test folder (importing them into a test module trips ruff's F811)::

    from tests.servers import ftp_server, sftp_server  # noqa: F401  (pytest fixtures)

or the context managers (``running_sftp_server(root)``, ``running_ftp_server(root, tls=...)``) from
a demo or benchmark. Every server records what clients did in ``events`` (``("write", path)``,
``("rename", old, new, target_existed)``) so tests can check that a file was written under a
temporary name and renamed, never written in place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ftplib
import ipaddress
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from expediter.sim.ports import free_port
from expediter.sim.sftp_server import SftpServer, running_sftp_server

LOOPBACK = "127.0.0.1"


# --- SFTP (the server lives in the package: the demo runs one too) ---------------------------------


@pytest.fixture
def sftp_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SftpServer]:
    """A running SFTP server rooted in ``tmp_path / "sftp"``; its password is in the environment
    variable ``EXPEDITER_TEST_SFTP_PASSWORD`` that ``server.settings()`` refers to."""
    root = tmp_path / "sftp"
    root.mkdir()
    with running_sftp_server(root) as server:
        monkeypatch.setenv("EXPEDITER_TEST_SFTP_PASSWORD", server.password)
        yield server


# --- FTP and FTPS ------------------------------------------------------------------------------


def self_signed_certificate(folder: Path, host: str = LOOPBACK) -> tuple[Path, Path]:
    """A fresh self-signed certificate for ``host`` (and ``localhost``): (cert PEM, key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    alt = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(alt, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "ftps-cert.pem", folder / "ftps-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class FtpServer:
    """A pyftpdlib server for ``username`` rooted in ``root``; with ``tls`` it requires explicit TLS
    (AUTH TLS) on the control and data channels, with a self-signed certificate in ``cert_file``."""

    def __init__(self, root: Path, *, tls: bool = False, username: str = "expediter", port: int = 0) -> None:
        self.root = root
        self.host = LOOPBACK
        self.port = port
        self.username = username
        self.password = secrets.token_urlsafe(16)
        self.tls = tls
        self.cert_file: Path | None = None
        self.key_file: Path | None = None
        if tls:
            self.cert_file, self.key_file = self_signed_certificate(root.parent)
        self.events: list[tuple[Any, ...]] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password": "env:EXPEDITER_TEST_FTP_PASSWORD",
            "tls": self.tls,
        }
        if self.cert_file is not None:
            values["ca_file"] = str(self.cert_file)
        return values | overrides

    def start(self) -> None:
        from pyftpdlib.servers import FTPServer

        self._server = FTPServer((self.host, self.port), self._handler_class())
        self.port = self._server.socket.getsockname()[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(self._server,), name="ftp-server", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and close every session (a server going down)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._thread = self._server = None

    def _serve(self, server: Any) -> None:
        # Drive pyftpdlib's IO loop in short non-blocking turns so stop() can end it from outside.
        while not self._stopping.is_set():
            server.ioloop.loop(timeout=0.05, blocking=False)
        server.close_all()

    def _handler_class(self) -> type:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler

        authorizer = DummyAuthorizer()
        authorizer.add_user(self.username, self.password, str(self.root), perm="elradfmwMT")
        base: type = TLS_FTPHandler if self.tls else FTPHandler
        events, root = self.events, self.root.resolve()

        class Audited(base):
            def ftp_STOR(self, file: str, mode: str = "w") -> Any:
                events.append(("write", str(Path(file).relative_to(root))))
                return super().ftp_STOR(file, mode)

            def ftp_RNTO(self, path: str) -> Any:
                old = str(Path(self._rnfr).relative_to(root)) if self._rnfr else ""
                events.append(("rename", old, str(Path(path).relative_to(root)), Path(path).exists()))
                return super().ftp_RNTO(path)

        Audited.authorizer = authorizer
        Audited.auth_failed_timeout = 0  # pyftpdlib's 3 s delay after a bad password only slows tests
        Audited.banner = "expediter test FTP server"
        if self.tls:
            Audited.certfile = str(self.cert_file)
            Audited.keyfile = str(self.key_file)
            Audited.tls_control_required = True
            Audited.tls_data_required = True
        return Audited


@contextmanager
def running_ftp_server(root: Path, *, tls: bool = False, **options: Any) -> Iterator[FtpServer]:
    server = FtpServer(root, tls=tls, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _ftp_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, tls: bool) -> Iterator[FtpServer]:
    root = tmp_path / ("ftps" if tls else "ftp")
    root.mkdir()
    with running_ftp_server(root, tls=tls) as server:
        monkeypatch.setenv("EXPEDITER_TEST_FTP_PASSWORD", server.password)
        yield server


@pytest.fixture
def ftp_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FtpServer]:
    """A running plain FTP server; password in ``EXPEDITER_TEST_FTP_PASSWORD``."""
    yield from _ftp_fixture(tmp_path, monkeypatch, tls=False)


@pytest.fixture
def ftps_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FtpServer]:
    """A running FTPS server (explicit TLS required); trust ``server.cert_file``."""
    yield from _ftp_fixture(tmp_path, monkeypatch, tls=True)


# --- vsftpd (Debian's FTP server, a separate process) ---------------------------------------------

VSFTPD = "/usr/sbin/vsftpd"


class VsftpdServer:
    """Debian's vsftpd serving ``root`` to the anonymous user, with write access; with ``tls`` it
    requires explicit TLS (AUTH TLS) for logins and data, with a self-signed certificate.

    It runs as the user that starts it (``run_as_launching_user``: no system account, no chroot) on
    a free loopback port fixed at creation, so :meth:`stop` then :meth:`start` brings it back on
    the same port. It answers ``OPTS MLST`` with 501 (it has no MLSD), like many servers in the
    field. Any password is accepted; :attr:`password` is what the transport sends."""

    def __init__(self, root: Path, *, tls: bool = False) -> None:
        assert os.path.exists(VSFTPD), "vsftpd is missing: run `make test` as root, or apt-get install vsftpd"
        self.root = root
        self.host = LOOPBACK
        self.port = free_port()
        self.username = "anonymous"
        self.password = secrets.token_urlsafe(16)
        self.tls = tls
        self.events: list[tuple[Any, ...]] = []  # vsftpd is not audited: see its log instead
        self.folder = root.parent / f"vsftpd-{self.port}"
        self.folder.mkdir()
        (self.folder / "empty").mkdir()
        self.cert_file: Path | None = None
        if tls:
            self.cert_file, self._key_file = self_signed_certificate(self.folder)
        self.config = self.folder / "vsftpd.conf"
        self.config.write_text(self._configuration())
        self.log = self.folder / "vsftpd.log"
        self._process: subprocess.Popen[bytes] | None = None

    def settings(self, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password": "env:EXPEDITER_TEST_FTP_PASSWORD",
            "tls": self.tls,
        }
        if self.cert_file is not None:
            values["ca_file"] = str(self.cert_file)
        return values | overrides

    def _configuration(self) -> str:
        lines = [
            "listen=YES",
            "listen_ipv6=NO",
            f"listen_address={self.host}",
            f"listen_port={self.port}",
            "background=NO",
            "run_as_launching_user=YES",
            "anonymous_enable=YES",
            "local_enable=NO",
            "write_enable=YES",
            f"anon_root={self.root}",
            "anon_upload_enable=YES",
            "anon_mkdir_write_enable=YES",
            "anon_other_write_enable=YES",
            "anon_world_readable_only=NO",
            "anon_umask=022",
            f"secure_chroot_dir={self.folder / 'empty'}",
            "seccomp_sandbox=NO",  # containers often refuse the prctl calls it needs
            "isolate=NO",
            "isolate_network=NO",
            "pasv_enable=YES",
            f"pasv_address={self.host}",
            "xferlog_enable=YES",
            "xferlog_std_format=NO",
            "syslog_enable=NO",
            "log_ftp_protocol=YES",
            f"vsftpd_log_file={self.folder / 'vsftpd.log'}",
        ]
        if self.tls:
            lines += [
                "ssl_enable=YES",
                "allow_anon_ssl=YES",
                "force_anon_logins_ssl=YES",
                "force_anon_data_ssl=YES",
                f"rsa_cert_file={self.cert_file}",
                f"rsa_private_key_file={self._key_file}",
                "ssl_ciphers=HIGH",
            ]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        self._process = subprocess.Popen(
            [VSFTPD, str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its session processes share its group: stop() ends them all
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        """Until the server greets a client; fail with its own words if it exits."""
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while self._process.poll() is None:
            try:
                with ftplib.FTP() as probe:
                    probe.connect(self.host, self.port, timeout=5)
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"vsftpd did not answer within {timeout:.0f} s") from None
                time.sleep(0.02)  # polling for readiness, not hiding a race
        error = self._process.stderr.read().decode() if self._process.stderr else ""
        raise AssertionError(f"vsftpd exited with {self._process.returncode}: {error}")

    def stop(self) -> None:
        """Stop the server and every session it forked (a server going down)."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


@contextmanager
def running_vsftpd(root: Path, *, tls: bool = False) -> Iterator[VsftpdServer]:
    server = VsftpdServer(root, tls=tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()  # its folder (configuration and log) stays with the test's temporary files


def _vsftpd_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, tls: bool) -> Iterator[VsftpdServer]:
    root = tmp_path / ("vsftpd-ftps" if tls else "vsftpd-ftp")
    root.mkdir()
    with running_vsftpd(root, tls=tls) as server:
        monkeypatch.setenv("EXPEDITER_TEST_FTP_PASSWORD", server.password)
        yield server


@pytest.fixture
def vsftpd_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VsftpdServer]:
    """A running vsftpd (plain FTP, anonymous with write access); password in
    ``EXPEDITER_TEST_FTP_PASSWORD``."""
    yield from _vsftpd_fixture(tmp_path, monkeypatch, tls=False)


@pytest.fixture
def vsftpd_ftps_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VsftpdServer]:
    """A running vsftpd requiring explicit TLS; trust ``server.cert_file``."""
    yield from _vsftpd_fixture(tmp_path, monkeypatch, tls=True)
