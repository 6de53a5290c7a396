"""Polling a transport for arriving files: each file handled once, errors reported, polling goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from expediter.connectors.folder.client import FolderTransport
from expediter.engine.schedule_watch import FileWatcher
from expediter.errors import ExpediterError, TerminalError
from expediter.plugin.transport import FetchedFile, MemorySeenStore, TransferRecord


def folder_transport(root: Path) -> FolderTransport:
    inbox = root / "inbox"
    return FolderTransport(inbox, inbox, inbox / "done", inbox / "failed", label="system vendor_drop")


async def no_wait(_seconds: float) -> None:
    return None


def test_each_arriving_file_is_handled_once_across_polls(tmp_path: Path) -> None:
    transport = folder_transport(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "inv-1.edi").write_bytes(b"first")
    handled: list[str] = []
    records: list[TransferRecord] = []
    between_polls = [
        lambda: (inbox / "inv-2.edi").write_bytes(b"second"),
        lambda: (inbox / "inv-1-again.edi").write_bytes(b"first"),
    ]

    async def handle(item: FetchedFile) -> None:
        handled.append(item.name)

    async def record(item: TransferRecord) -> None:
        records.append(item)

    async def next_poll(_seconds: float) -> None:
        if between_polls:
            between_polls.pop(0)()
        else:
            watcher.stop()

    watcher = FileWatcher(
        transport,
        handle,
        scope="vendor_invoices",
        seen=MemorySeenStore(),
        pattern="*.edi",
        record=record,
        sleep=next_poll,
        stability_wait=no_wait,
    )
    asyncio.run(watcher.run())
    assert handled == ["inv-1.edi", "inv-2.edi"]
    assert [(r.name, r.outcome.value) for r in records] == [
        ("inv-1.edi", "processed"),
        ("inv-2.edi", "processed"),
        ("inv-1-again.edi", "duplicate"),
    ]
    assert watcher.polls == 3
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["inv-1-again.edi", "inv-1.edi", "inv-2.edi"]


def test_an_error_is_reported_and_polling_recovers_when_fixed(tmp_path: Path) -> None:
    transport = folder_transport(tmp_path)
    errors: list[ExpediterError] = []
    handled: list[bytes] = []

    async def handle(item: FetchedFile) -> None:
        handled.append(item.data)

    async def on_error(exc: ExpediterError) -> None:
        errors.append(exc)

    async def manager_fixes_it(_seconds: float) -> None:
        if watcher.polls == 1:
            (tmp_path / "inbox").mkdir()
            (tmp_path / "inbox" / "a.csv").write_bytes(b"a")
        else:
            watcher.stop()

    watcher = FileWatcher(
        transport,
        handle,
        scope="f",
        seen=MemorySeenStore(),
        on_error=on_error,
        sleep=manager_fixes_it,
        stability_wait=no_wait,
    )
    asyncio.run(watcher.run())
    assert len(errors) == 1 and isinstance(errors[0], TerminalError)
    assert "system vendor_drop" in str(errors[0])
    assert handled == [b"a"]
