"""What an SFTP server is left with when an upload dies, and what a re-keyed server's refusal says.

Real servers on loopback (asyncssh's own); a killed upload is a real process killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from expediter.errors import TerminalError, TransientError
from expediter.model.clock import ManualClock
from expediter.plugin.transport import (
    STALE_TEMP_AGE,
    FetchedFile,
    FileOutcome,
    MemorySeenStore,
    TransferRecord,
    is_temp_name,
    receive_files,
)
from expediter.sim.sftp_server import AuditedSftp, SftpServer
from tests.connectors.sftp.test_sftp import run, transport_for

pytestmark = pytest.mark.service

_UPLOAD_IN_A_CHILD = """
import asyncio, json, sys
from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.plugin.base import ConnectorContext
from expediter.connectors.sftp.connector import CONNECTOR

system = System(id="bo", kind=SystemKind.BACK_OFFICE, connector="sftp", owner="ops",
                settings=json.loads(sys.argv[1]))
transport = CONNECTOR.make_transport(ConnectorContext(catalog=Catalog(systems=[system]), system=system))
asyncio.run(transport.upload("sales.csv", b"x" * (64 << 20)))
"""


@pytest.fixture
def server_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start SFTP servers of a given kind (host key types, a misbehaving file server)."""
    started: list[SftpServer] = []

    def start(*, sftp_class: type[AuditedSftp] = AuditedSftp, **options: Any) -> SftpServer:
        root = tmp_path / f"sftp{len(started)}"
        root.mkdir()
        server = type("Server", (SftpServer,), {"sftp_class": sftp_class})(root, **options)
        server.start()
        started.append(server)
        monkeypatch.setenv("EXPEDITER_TEST_SFTP_PASSWORD", server.password)
        return server

    yield start
    for server in started:
        server.shutdown()


def _kill_an_upload_midway(server: SftpServer) -> None:
    settings = server.settings(upload_dir="outbox")
    child = subprocess.Popen([sys.executable, "-c", _UPLOAD_IN_A_CHILD, json.dumps(settings)])
    try:
        deadline = time.monotonic() + 60
        while not any(e[0] == "write" for e in server.events):
            assert child.poll() is None, "the upload ended before it was killed"
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.005)  # waiting for the child to open its file, not hiding a race
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)


@pytest.mark.slow
def test_the_next_upload_removes_what_a_killed_upload_left(server_of: Any, clock: ManualClock) -> None:
    server = server_of()
    outbox = server.root / "outbox"
    outbox.mkdir()
    _kill_an_upload_midway(server)
    [left] = [p for p in outbox.iterdir() if is_temp_name(p.name)]
    assert left.read_bytes() != b"x" * (64 << 20)  # killed midway: a half file, never renamed

    # The next night: the leftover has not changed for longer than a live upload ever pauses.
    written_at = datetime.fromtimestamp(left.stat().st_mtime, UTC)
    clock.set(written_at + STALE_TEMP_AGE + timedelta(minutes=1))
    live = outbox / ".expediter-0123456789ab-labor.csv.part"  # another hub's upload, running now
    live.write_bytes(b"in progress")
    os.utime(live, (clock.now().timestamp(), clock.now().timestamp()))
    theirs = outbox / ".expediter-notes.part"  # not a name we make: not ours to remove
    theirs.write_bytes(b"keep")

    run(transport_for(server), lambda t: t.upload("sales.csv", b"night"))
    assert sorted(p.name for p in outbox.iterdir()) == [live.name, theirs.name, "sales.csv"]
    assert (outbox / "sales.csv").read_bytes() == b"night"


class _HangsUpOnTheFirstRename(AuditedSftp):
    """The connection drops after the data was written, before the rename (once)."""

    hung_up = False

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        if not _HangsUpOnTheFirstRename.hung_up:
            _HangsUpOnTheFirstRename.hung_up = True
            self.channel.get_connection().abort()
            raise asyncssh.SFTPConnectionLost("hung up")
        super().posix_rename(oldpath, newpath)


def test_a_failed_upload_that_could_not_clean_up_is_cleaned_up_on_the_next_connection(
    server_of: Any,
) -> None:
    server = server_of(sftp_class=_HangsUpOnTheFirstRename)
    outbox = server.root / "outbox"
    outbox.mkdir()
    transport = transport_for(server)

    async def scenario() -> list[str]:
        with pytest.raises(TransientError):
            await transport.upload("sales.csv", b"night")
        left = sorted(p.name for p in outbox.iterdir())
        await transport.upload("sales.csv", b"night")
        await transport.close()
        return left

    left_after_the_failure = asyncio.run(scenario())
    assert len(left_after_the_failure) == 1 and is_temp_name(left_after_the_failure[0])
    assert sorted(p.name for p in outbox.iterdir()) == ["sales.csv"]


def test_a_rekeyed_server_is_named_with_the_key_type_it_offered_and_the_pinned_one(
    server_of: Any,
) -> None:
    """A server re-keyed with new keys of several types: the fix is its new key of the pinned type."""
    server = server_of(host_key_types=("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"))
    old = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(TerminalError) as caught:
        run(transport_for(server, host_key=old.export_public_key().decode()), lambda t: t.list_files())
    message = str(caught.value)
    assert f"pinned ssh-ed25519 {old.get_fingerprint()}" in message
    assert f"The server offered ssh-ed25519 {server.host_key.get_fingerprint()}" in message
    assert message.endswith(f"update settings.host_key to: {server.host_key_line}")


def test_a_server_rekeyed_to_another_key_type_is_refused_naming_both_types(server_of: Any) -> None:
    """Not a server that is down (retried for ever) but a key to update, with the line to paste."""
    server = server_of(host_key_types=("ecdsa-sha2-nistp256",))
    old = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(TerminalError) as caught:
        run(transport_for(server, host_key=old.export_public_key().decode()), lambda t: t.list_files())
    message = str(caught.value)
    assert f"SFTP server 127.0.0.1:{server.port} offers no ssh-ed25519 host key" in message
    assert f"pinned ssh-ed25519 {old.get_fingerprint()}" in message
    assert f"it offered ecdsa-sha2-nistp256 {server.host_key.get_fingerprint()}" in message
    assert message.endswith(f"update settings.host_key to: {server.host_key_line}")
    assert server.password not in message


class _ListsAnEscapingName(AuditedSftp):
    """A hostile server: its inbox listing names a file outside the inbox."""

    async def scandir(self, path: bytes) -> Any:
        async for entry in super().scandir(path):
            yield entry
        attrs = asyncssh.SFTPAttrs(permissions=stat.S_IFREG | 0o644, size=6, mtime=0)
        yield asyncssh.SFTPName(b"../secret.csv", attrs=attrs)


def test_a_listed_name_outside_the_inbox_is_recorded_once_and_left_alone(server_of: Any) -> None:
    server = server_of(sftp_class=_ListsAnEscapingName)
    (server.root / "inbox").mkdir()
    (server.root / "inbox" / "good.csv").write_bytes(b"ok")
    (server.root / "secret.csv").write_bytes(b"secret")
    transport = transport_for(server)
    seen, records, handled = MemorySeenStore(), list[TransferRecord](), list[str]()

    async def handle(item: FetchedFile) -> None:
        handled.append(item.name)

    async def record(item: TransferRecord) -> None:
        records.append(item)

    async def no_wait(_interval: float) -> None:
        return None

    async def poll_twice() -> list[dict[str, FileOutcome]]:
        outcomes = [
            await receive_files(transport, handle, scope="f", seen=seen, wait=no_wait, record=record)
            for _ in range(2)
        ]
        await transport.close()
        return outcomes

    first, second = asyncio.run(poll_twice())
    assert first == {"../secret.csv": FileOutcome.FAILED, "good.csv": FileOutcome.PROCESSED}
    assert second == {}
    assert handled == ["good.csv"]
    [refused] = [r for r in records if r.name == "../secret.csv"]
    assert refused.outcome is FileOutcome.FAILED and "is not a plain file name" in refused.error
    assert (server.root / "secret.csv").read_bytes() == b"secret"
