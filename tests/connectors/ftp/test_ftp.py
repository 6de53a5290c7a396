"""The FTP and FTPS transports against real servers on loopback: pyftpdlib (in-process, audited) and
Debian's vsftpd (a separate process; no MLSD: it answers ``OPTS MLST`` with 501). FTPS is explicit
TLS with a self-signed certificate."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.catalog.schema import Hub as HubSettings
from expediter.connectors.ftp.client import FtpTransport
from expediter.connectors.ftp.connector import CONNECTOR
from expediter.errors import TerminalError, TransientError
from expediter.plugin.base import ConnectorContext
from expediter.plugin.transport import (
    FetchedFile,
    FileOutcome,
    StoredSeenStore,
    is_temp_name,
    receive_files,
)
from expediter.storage import open_storage
from tests.servers import FtpServer, VsftpdServer, self_signed_certificate

pytestmark = pytest.mark.service
T = TypeVar("T")


@pytest.fixture(params=["ftp", "ftps"])
def server(request: pytest.FixtureRequest) -> FtpServer:
    """Each test runs against plain FTP and against FTPS."""
    found = request.getfixturevalue(f"{request.param}_server")
    assert isinstance(found, FtpServer)
    return found


@pytest.fixture(params=["ftp_server", "ftps_server", "vsftpd_server", "vsftpd_ftps_server"])
def any_server(request: pytest.FixtureRequest) -> FtpServer | VsftpdServer:
    """Each test runs against pyftpdlib and vsftpd, each over plain FTP and over FTPS."""
    found = request.getfixturevalue(request.param)
    assert isinstance(found, FtpServer | VsftpdServer)
    return found


def transport_for(server: FtpServer | VsftpdServer, **overrides: Any) -> FtpTransport:
    settings = server.settings(inbox_dir="inbox", upload_dir="outbox") | overrides
    system = System(id="vendor_ftp", kind=SystemKind.VENDOR, connector="ftp", owner="ops", settings=settings)
    ctx = ConnectorContext(catalog=Catalog(systems=[system]), system=system)
    transport = CONNECTOR.make_transport(ctx, flow_id="vendor_invoices")
    assert isinstance(transport, FtpTransport)
    return transport


def run(action: Awaitable[T]) -> T:
    async def step() -> T:
        return await action

    return asyncio.run(step())


def test_upload_writes_a_temporary_name_then_renames_over_the_old_file(server: FtpServer) -> None:
    outbox = server.root / "outbox"
    outbox.mkdir()
    (outbox / "payroll.csv").write_bytes(b"old\n")
    transport = transport_for(server)
    with open(outbox / "payroll.csv", "rb") as reader_of_old_file:
        receipt = run(transport.upload("payroll.csv", b"new\n" * 5000))
        assert reader_of_old_file.read() == b"old\n"
    assert (outbox / "payroll.csv").read_bytes() == b"new\n" * 5000
    assert receipt.bytes == 20000 and receipt.remote_ref.endswith("outbox/payroll.csv")
    writes = [e[1] for e in server.events if e[0] == "write"]
    assert len(writes) == 1 and is_temp_name(Path(writes[0]).name)
    assert server.events[-1] == ("rename", writes[0], "outbox/payroll.csv", True)
    assert sorted(p.name for p in outbox.iterdir()) == ["payroll.csv"]


def test_list_download_done_and_failed(any_server: FtpServer | VsftpdServer) -> None:
    server = any_server
    inbox = server.root / "inbox"
    inbox.mkdir()
    (inbox / "a.edi").write_bytes(b"aaa")
    (inbox / "b.edi").write_bytes(b"bb")
    (inbox / ".expediter-123-c.edi.part").write_bytes(b"c")
    (inbox / "dir.edi").mkdir()
    transport = transport_for(server)

    async def scenario() -> tuple[list[tuple[str, int]], bytes, str, str]:
        listed = [(f.name, f.size) for f in await transport.list_files("*.edi")]
        data = await transport.download("a.edi")
        return listed, data, await transport.move_to_done("a.edi"), await transport.move_to_failed("b.edi")

    listed, data, done, failed = run(scenario())
    assert listed == [("a.edi", 3), ("b.edi", 2)]
    assert data == b"aaa"
    assert (server.root / done).read_bytes() == b"aaa" and done == "done/a.edi"
    assert (server.root / failed).read_bytes() == b"bb" and failed == "failed/b.edi"


def test_growing_file_waits_and_a_repeat_is_processed_once_across_restarts(
    any_server: FtpServer | VsftpdServer, tmp_path: Path
) -> None:
    server = any_server
    inbox = server.root / "inbox"
    inbox.mkdir()
    growing = inbox / "prices.csv"
    growing.write_bytes(b"sku,price\n")
    transport = transport_for(server)
    handled: list[bytes] = []

    async def handle(item: FetchedFile) -> None:
        handled.append(item.data)

    async def vendor_appends(_interval: float) -> None:
        with open(growing, "ab") as handle_:
            handle_.write(b"A1,100\n")

    async def no_change(_interval: float) -> None:
        return None

    def poll(wait: Callable[[float], Awaitable[None]]) -> dict[str, FileOutcome]:
        # A fresh storage on the same database each time: like a hub restarting between polls.
        async def restarted() -> dict[str, FileOutcome]:
            storage = open_storage(tmp_path / "seen.db")
            await storage.start()
            try:
                seen = StoredSeenStore(storage)
                return await receive_files(transport, handle, scope="prices", seen=seen, wait=wait)
            finally:
                await storage.stop()

        return run(restarted())

    assert poll(vendor_appends) == {}
    assert poll(no_change) == {"prices.csv": FileOutcome.PROCESSED}
    (inbox / "prices.csv").write_bytes(b"sku,price\nA1,100\n")
    assert poll(no_change) == {"prices.csv": FileOutcome.DUPLICATE}
    assert handled == [b"sku,price\nA1,100\n"]
    assert len(list((server.root / "done").iterdir())) == 2


def test_wrong_password_is_terminal_and_never_shown(
    server: FtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPEDITER_TEST_FTP_PASSWORD", "N0t-The-Password")
    with pytest.raises(TerminalError) as caught:
        run(transport_for(server).list_files())
    message = str(caught.value)
    assert f"FTP server 127.0.0.1:{server.port} refused the login of user expediter" in message
    assert "flow vendor_invoices / system vendor_ftp" in message
    assert "N0t-The-Password" not in message and server.password not in message


def test_server_down_is_transient_then_works_when_back(any_server: FtpServer | VsftpdServer) -> None:
    server = any_server
    (server.root / "outbox").mkdir()
    transport = transport_for(server)
    server.stop()
    with pytest.raises(TransientError, match=f"cannot reach FTP server 127.0.0.1:{server.port}"):
        run(transport.upload("sales.csv", b"1"))
    server.start()
    run(transport.upload("sales.csv", b"1"))
    assert (server.root / "outbox" / "sales.csv").read_bytes() == b"1"


def test_a_missing_folder_is_terminal_and_names_the_settings(server: FtpServer) -> None:
    with pytest.raises(TerminalError, match="upload_dir"):
        run(transport_for(server, upload_dir="nowhere").upload("x.csv", b"x"))
    assert not [e for e in server.events if e[0] == "rename"]


def test_ftps_refuses_an_untrusted_certificate(ftps_server: FtpServer, tmp_path: Path) -> None:
    stranger, _ = self_signed_certificate(tmp_path)
    transport = transport_for(ftps_server, ca_file=str(stranger))
    with pytest.raises(TerminalError, match=r"is not trusted .* set settings\.ca_file"):
        run(transport.list_files())


def test_ftps_requires_tls_so_plain_ftp_is_refused(ftps_server: FtpServer) -> None:
    with pytest.raises(TerminalError, match=r"refused the session .* set settings\.tls = true"):
        run(transport_for(ftps_server, tls=False).list_files())


def test_an_upload_to_vsftpd_replaces_the_old_file_and_leaves_no_temporary_file(
    vsftpd_server: VsftpdServer,
) -> None:
    outbox = vsftpd_server.root / "outbox"
    outbox.mkdir()
    (outbox / "payroll.csv").write_bytes(b"old\n")
    receipt = run(transport_for(vsftpd_server).upload("payroll.csv", b"new\n" * 5000))
    assert (outbox / "payroll.csv").read_bytes() == b"new\n" * 5000
    assert receipt.remote_ref == f"ftp://127.0.0.1:{vsftpd_server.port}/outbox/payroll.csv"
    assert sorted(p.name for p in outbox.iterdir()) == ["payroll.csv"]


def test_a_missing_inbox_on_a_server_without_mlsd_is_refused_not_listed_as_empty(
    vsftpd_server: VsftpdServer,
) -> None:
    """vsftpd lists a folder that does not exist as empty; the transport must not believe it."""
    with pytest.raises(TerminalError, match=r"list nowhere .* refused: 550.*inbox_dir"):
        run(transport_for(vsftpd_server, inbox_dir="nowhere").list_files())


def test_a_relative_ca_file_is_beside_the_catalog_whatever_folder_the_hub_starts_in(
    ftps_server: FtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ftps_server.cert_file is not None and ftps_server.cert_file.parent == tmp_path
    (ftps_server.root / "inbox").mkdir()
    (ftps_server.root / "inbox" / "a.edi").write_bytes(b"a")
    settings = ftps_server.settings(inbox_dir="inbox", ca_file=ftps_server.cert_file.name)
    system = System(id="vendor_ftp", kind=SystemKind.VENDOR, connector="ftp", owner="ops", settings=settings)
    catalog = Catalog(hub=HubSettings(database=str(tmp_path / "hub.db")), systems=[system])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    transport = CONNECTOR.make_transport(ConnectorContext(catalog=catalog, system=system))
    assert [f.name for f in run(transport.list_files())] == ["a.edi"]
