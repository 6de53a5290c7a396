"""The SFTP transport against asyncssh's own SFTP server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncssh
import pytest

from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.connectors.sftp.client import SftpTransport
from expediter.connectors.sftp.connector import CONNECTOR
from expediter.errors import ConfigError, TerminalError, TransientError
from expediter.plugin.base import ConnectorContext
from expediter.plugin.transport import (
    FetchedFile,
    FileOutcome,
    MemorySeenStore,
    TransferRecord,
    is_temp_name,
    receive_files,
    send_file,
)
from tests.servers import SftpServer

pytestmark = pytest.mark.service
T = TypeVar("T")


def transport_for(server: SftpServer, **overrides: Any) -> SftpTransport:
    settings = server.settings(inbox_dir="inbox", upload_dir="outbox") | overrides
    system = System(
        id="vendor_sftp", kind=SystemKind.VENDOR, connector="sftp", owner="ops", settings=settings
    )
    ctx = ConnectorContext(catalog=Catalog(systems=[system]), system=system)
    transport = CONNECTOR.make_transport(ctx, flow_id="vendor_invoices")
    assert isinstance(transport, SftpTransport)
    return transport


def run(transport: SftpTransport, action: Callable[[SftpTransport], Awaitable[T]]) -> T:
    """Run one async step and close the connection, as each poll of the engine would."""

    async def step() -> T:
        try:
            return await action(transport)
        finally:
            await transport.close()

    return asyncio.run(step())


def test_upload_writes_a_temporary_name_then_renames(sftp_server: SftpServer) -> None:
    (sftp_server.root / "outbox").mkdir()
    transport = transport_for(sftp_server)
    receipt = run(transport, lambda t: t.upload("po-1001.edi", b"ISA*00*...~"))

    assert (sftp_server.root / "outbox" / "po-1001.edi").read_bytes() == b"ISA*00*...~"
    assert receipt.bytes == 11
    assert receipt.checksum.startswith("sha256:")
    writes = [e[1] for e in sftp_server.events if e[0] == "write"]
    renames = [e for e in sftp_server.events if e[0] == "rename"]
    assert len(writes) == 1 and is_temp_name(Path(writes[0]).name)
    assert renames == [("rename", writes[0], "outbox/po-1001.edi", False)]
    assert [p.name for p in (sftp_server.root / "outbox").iterdir()] == ["po-1001.edi"]


def test_upload_replaces_an_existing_file_in_one_step(sftp_server: SftpServer) -> None:
    outbox = sftp_server.root / "outbox"
    outbox.mkdir()
    (outbox / "prices.csv").write_bytes(b"old,content\n")
    transport = transport_for(sftp_server)
    with open(outbox / "prices.csv", "rb") as reader_of_old_file:
        run(transport, lambda t: t.upload("prices.csv", b"new,content\n" * 1000))
        # A reader that opened the old file keeps reading the whole old file: it was never truncated.
        assert reader_of_old_file.read() == b"old,content\n"
    assert (outbox / "prices.csv").read_bytes() == b"new,content\n" * 1000
    assert sftp_server.events[-1][2:] == ("outbox/prices.csv", True)
    assert ("write", "outbox/prices.csv") not in sftp_server.events


def test_list_download_and_move_to_done_and_failed(sftp_server: SftpServer) -> None:
    inbox = sftp_server.root / "inbox"
    inbox.mkdir()
    (inbox / "inv-1.edi").write_bytes(b"one")
    (inbox / "inv-2.edi").write_bytes(b"two")
    (inbox / "notes.txt").write_bytes(b"skip me")
    (inbox / ".expediter-abc-inv-3.edi.part").write_bytes(b"half")
    (inbox / "sub.edi").mkdir()
    transport = transport_for(sftp_server)

    async def scenario(t: SftpTransport) -> tuple[list[str], bytes, str, str]:
        names = [f.name for f in await t.list_files("*.edi")]
        data = await t.download("inv-1.edi")
        done = await t.move_to_done("inv-1.edi")
        failed = await t.move_to_failed("inv-2.edi")
        return names, data, done, failed

    names, data, done, failed = run(transport, scenario)
    assert names == ["inv-1.edi", "inv-2.edi"]
    assert data == b"one"
    assert done == "done/inv-1.edi" and (sftp_server.root / "done" / "inv-1.edi").read_bytes() == b"one"
    assert failed == "failed/inv-2.edi" and (sftp_server.root / "failed" / "inv-2.edi").exists()
    assert sorted(p.name for p in inbox.iterdir()) == [
        ".expediter-abc-inv-3.edi.part",
        "notes.txt",
        "sub.edi",
    ]


def test_a_second_file_of_the_same_name_does_not_overwrite_done(sftp_server: SftpServer) -> None:
    inbox = sftp_server.root / "inbox"
    inbox.mkdir()
    transport = transport_for(sftp_server)
    (inbox / "inv.edi").write_bytes(b"monday")
    run(transport, lambda t: t.move_to_done("inv.edi"))
    (inbox / "inv.edi").write_bytes(b"tuesday")
    second = run(transport, lambda t: t.move_to_done("inv.edi"))
    assert second.startswith("done/inv.edi.")
    assert sorted(p.read_bytes() for p in (sftp_server.root / "done").iterdir()) == [b"monday", b"tuesday"]


def test_a_growing_file_is_read_only_once_stable_and_a_repeat_is_processed_once(
    sftp_server: SftpServer,
) -> None:
    inbox = sftp_server.root / "inbox"
    inbox.mkdir()
    growing = inbox / "invoice-77.edi"
    growing.write_bytes(b"ISA*first half")
    transport = transport_for(sftp_server)
    handled: list[FetchedFile] = []
    records: list[TransferRecord] = []
    seen = MemorySeenStore()

    async def handle(item: FetchedFile) -> None:
        handled.append(item)

    async def record(item: TransferRecord) -> None:
        records.append(item)

    async def vendor_still_writing(_interval: float) -> None:
        with open(growing, "ab") as handle:
            handle.write(b"*second half~")

    async def nothing_changes(_interval: float) -> None:
        return None

    def poll(wait: Callable[[float], Awaitable[None]]) -> dict[str, FileOutcome]:
        return run(
            transport,
            lambda t: receive_files(t, handle, scope="vendor_invoices", seen=seen, wait=wait, record=record),
        )

    assert poll(vendor_still_writing) == {}
    assert handled == [] and growing.exists()
    assert poll(nothing_changes) == {"invoice-77.edi": FileOutcome.PROCESSED}
    assert [h.data for h in handled] == [b"ISA*first half*second half~"]
    # The vendor sends the same invoice again under another name: recognised by its checksum.
    (inbox / "invoice-77-resend.edi").write_bytes(b"ISA*first half*second half~")
    assert poll(nothing_changes) == {"invoice-77-resend.edi": FileOutcome.DUPLICATE}
    assert len(handled) == 1
    assert sorted(p.name for p in (sftp_server.root / "done").iterdir()) == [
        "invoice-77-resend.edi",
        "invoice-77.edi",
    ]
    assert [(r.name, r.outcome, r.bytes) for r in records] == [
        ("invoice-77.edi", FileOutcome.PROCESSED, 27),
        ("invoice-77-resend.edi", FileOutcome.DUPLICATE, 27),
    ]
    assert records[0].endpoint.startswith("sftp://expediter@127.0.0.1:")


def test_a_refused_file_goes_to_failed(sftp_server: SftpServer) -> None:
    inbox = sftp_server.root / "inbox"
    inbox.mkdir()
    (inbox / "bad.edi").write_bytes(b"not x12")
    transport = transport_for(sftp_server)

    async def refuse(item: FetchedFile) -> None:
        raise TerminalError("not an X12 interchange")

    async def no_wait(_interval: float) -> None:
        return None

    outcome = run(
        transport, lambda t: receive_files(t, refuse, scope="f", seen=MemorySeenStore(), wait=no_wait)
    )
    assert outcome == {"bad.edi": FileOutcome.FAILED}
    assert (sftp_server.root / "failed" / "bad.edi").read_bytes() == b"not x12"


def test_a_changed_host_key_is_refused_with_the_fix(sftp_server: SftpServer) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    transport = transport_for(sftp_server, host_key=other)
    with pytest.raises(TerminalError) as caught:
        run(transport, lambda t: t.list_files())
    message = str(caught.value)
    assert f"the host key of 127.0.0.1:{sftp_server.port} is not the one pinned" in message
    assert "flow vendor_invoices / system vendor_sftp" in message
    assert f"update settings.host_key to: {sftp_server.host_key_line}" in message
    assert sftp_server.password not in message


def test_a_wrong_password_is_terminal_and_never_shown(
    sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPEDITER_TEST_SFTP_PASSWORD", "Wr0ng-Secret-Value")
    transport = transport_for(sftp_server)
    with pytest.raises(TerminalError) as caught:
        run(transport, lambda t: t.list_files())
    message = str(caught.value)
    assert f"SFTP server 127.0.0.1:{sftp_server.port} refused the login of user expediter" in message
    assert "env:EXPEDITER_TEST_SFTP_PASSWORD" in message
    assert "Wr0ng-Secret-Value" not in message and sftp_server.password not in message


def test_an_inline_password_is_refused_without_echoing_it(sftp_server: SftpServer) -> None:
    transport = transport_for(sftp_server, password="hunter2:inline")
    with pytest.raises(ConfigError) as caught:
        run(transport, lambda t: t.list_files())
    assert "hunter2" not in str(caught.value) and "env:NAME" in str(caught.value)


def test_server_down_is_transient_and_the_next_call_reconnects(sftp_server: SftpServer) -> None:
    (sftp_server.root / "outbox").mkdir()
    transport = transport_for(sftp_server)
    records: list[TransferRecord] = []

    async def record(item: TransferRecord) -> None:
        records.append(item)

    async def scenario() -> None:
        await transport.upload("before.csv", b"1")
        sftp_server.stop()
        with pytest.raises(TransientError, match=r"127\.0\.0\.1"):
            await send_file(transport, "during.csv", b"2", scope="sales_export", record=record)
        with pytest.raises(TransientError, match="cannot reach SFTP server"):
            await transport.upload("during.csv", b"2")
        sftp_server.start()
        await send_file(transport, "after.csv", b"3", scope="sales_export", record=record)
        await transport.close()

    asyncio.run(scenario())
    assert sorted(p.name for p in (sftp_server.root / "outbox").iterdir()) == ["after.csv", "before.csv"]
    assert [(r.name, r.outcome) for r in records] == [
        ("during.csv", FileOutcome.FAILED),
        ("after.csv", FileOutcome.PROCESSED),
    ]
    assert records[0].error


def test_a_missing_folder_is_terminal_and_names_the_settings(sftp_server: SftpServer) -> None:
    transport = transport_for(sftp_server, upload_dir="no/such/folder")
    with pytest.raises(TerminalError, match="upload_dir"):
        run(transport, lambda t: t.upload("x.csv", b"x"))


def test_private_key_login(sftp_server: SftpServer, tmp_path: Path) -> None:
    key_file = sftp_server.write_client_key(tmp_path)
    (sftp_server.root / "outbox").mkdir()
    transport = transport_for(sftp_server, password=None, private_key=f"file:{key_file}")
    run(transport, lambda t: t.upload("journal.iif", b"!TRNS"))
    assert (sftp_server.root / "outbox" / "journal.iif").read_bytes() == b"!TRNS"


def test_a_host_key_line_from_ssh_keyscan_is_accepted(sftp_server: SftpServer) -> None:
    (sftp_server.root / "inbox").mkdir()
    transport = transport_for(
        sftp_server, host_key=f"[127.0.0.1]:{sftp_server.port} {sftp_server.host_key_line}"
    )
    assert run(transport, lambda t: t.list_files()) == []


def test_a_malformed_host_key_is_a_config_error_that_says_where_to_get_one(sftp_server: SftpServer) -> None:
    with pytest.raises(ConfigError, match="ssh-keyscan"):
        transport_for(sftp_server, host_key="not a key")


def test_a_missing_host_key_says_how_to_pin_one(sftp_server: SftpServer) -> None:
    settings = sftp_server.settings()
    del settings["host_key"]
    system = System(
        id="vendor_sftp", kind=SystemKind.VENDOR, connector="sftp", owner="ops", settings=settings
    )
    with pytest.raises(ConfigError, match=r"host_key.*ssh-keyscan"):
        CONNECTOR.make_transport(ConnectorContext(catalog=Catalog(systems=[system]), system=system))
