"""The watched-folder transport on real local folders."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from expediter.catalog.schema import Catalog, Hub, System, SystemKind
from expediter.catalog.secrets import resolve_secret
from expediter.connectors.folder.client import FolderTransport
from expediter.connectors.folder.connector import CONNECTOR
from expediter.errors import ConfigError, RejectedInput, TerminalError, TransientError
from expediter.model.clock import ManualClock
from expediter.plugin.base import ConnectorContext
from expediter.plugin.transport import (
    STALE_TEMP_AGE,
    FetchedFile,
    FileOutcome,
    MemorySeenStore,
    TransferRecord,
    fetch_stable,
    receive_files,
)

T = TypeVar("T")


def run(action: Awaitable[T]) -> T:
    async def step() -> T:
        return await action

    return asyncio.run(step())


def transport_for(data_dir: Path, **settings: Any) -> FolderTransport:
    system = System(
        id="shared_drive",
        kind=SystemKind.BACK_OFFICE,
        connector="folder",
        owner="ops",
        settings={"inbox_dir": "drop"} | settings,
    )
    ctx = ConnectorContext(catalog=Catalog(hub=Hub(data_dir=str(data_dir)), systems=[system]), system=system)
    transport = CONNECTOR.make_transport(ctx)
    assert isinstance(transport, FolderTransport)
    return transport


async def no_wait(_interval: float) -> None:
    return None


def test_upload_renames_over_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    transport = transport_for(tmp_path, upload_dir="out")
    run(transport.upload("sales.csv", b"v1"))
    target = tmp_path / "out" / "sales.csv"
    old_inode = target.stat().st_ino
    with open(target, "rb") as reader_of_old_file:
        receipt = run(transport.upload("sales.csv", b"v2" * 1000))
        assert reader_of_old_file.read() == b"v1"
    assert target.read_bytes() == b"v2" * 1000
    assert target.stat().st_ino != old_inode  # a new file renamed in, not the old one rewritten
    assert os.listdir(tmp_path / "out") == ["sales.csv"]
    assert receipt.remote_ref == str(target)


def test_names_that_leave_the_folder_are_refused(tmp_path: Path) -> None:
    transport = transport_for(tmp_path)
    for name in ["../escape.csv", "a/b.csv", "", ".."]:
        with pytest.raises(RejectedInput):
            run(transport.upload(name, b"x"))
    assert not (tmp_path / "escape.csv").exists()


def test_receive_moves_files_to_done_and_failed(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "good.csv").write_bytes(b"ok")
    (drop / "bad.csv").write_bytes(b"broken")
    (drop / "readme.txt").write_bytes(b"ignored")
    transport = transport_for(tmp_path)

    async def handle(item: FetchedFile) -> None:
        if item.data == b"broken":
            raise RejectedInput("row 1 has no header", where="bad.csv:1")

    outcomes = run(
        receive_files(transport, handle, scope="f", seen=MemorySeenStore(), pattern="*.csv", wait=no_wait)
    )
    assert outcomes == {"good.csv": FileOutcome.PROCESSED, "bad.csv": FileOutcome.FAILED}
    assert (drop / "done" / "good.csv").read_bytes() == b"ok"
    assert (drop / "failed" / "bad.csv").read_bytes() == b"broken"
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == ["readme.txt"]


def test_a_file_being_written_is_not_read(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "big.csv").write_bytes(b"a")
    transport = transport_for(tmp_path)

    async def writer_appends(_interval: float) -> None:
        with open(drop / "big.csv", "ab") as handle:
            handle.write(b"b")

    assert run(fetch_stable(transport, wait=writer_appends)) == []
    [item] = run(fetch_stable(transport, wait=no_wait))
    assert item.data == b"ab"


def test_a_missing_inbox_is_terminal_and_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(TerminalError, match="does not exist; create the folder"):
        run(transport_for(tmp_path).list_files())


def test_bad_settings_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="system shared_drive"):
        transport_for(tmp_path, inbox_dri="typo")


def test_resolve_secret_reads_env_and_file_and_never_echoes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPEDITER_TEST_SECRET", "s3cret")
    (tmp_path / "pw").write_text("from-file\n")
    assert resolve_secret("env:EXPEDITER_TEST_SECRET") == "s3cret"
    assert resolve_secret(f"file:{tmp_path / 'pw'}") == "from-file"
    for bad in ["plain-password", "p4ss:word", "env:EXPEDITER_NOT_SET_ANYWHERE"]:
        with pytest.raises(ConfigError) as caught:
            resolve_secret(bad)
        assert "p4ss" not in str(caught.value) and "plain-password" not in str(caught.value)


def test_a_transient_handler_error_leaves_the_file_for_the_next_poll(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_bytes(b"a")
    transport = transport_for(tmp_path)
    seen = MemorySeenStore()
    records: list[TransferRecord] = []
    calls: list[str] = []

    async def back_office_down_once(item: FetchedFile) -> None:
        calls.append(item.name)
        if len(calls) == 1:
            raise TransientError("back office answered 503", retry_after=30)

    async def record(item: TransferRecord) -> None:
        records.append(item)

    def poll() -> dict[str, FileOutcome]:
        return run(
            receive_files(transport, back_office_down_once, scope="f", seen=seen, wait=no_wait, record=record)
        )

    with pytest.raises(TransientError) as caught:
        poll()
    assert caught.value.retry_after == 30
    assert (drop / "a.csv").exists()
    assert poll() == {"a.csv": FileOutcome.PROCESSED}
    assert [(r.outcome, r.error) for r in records] == [
        (FileOutcome.RETRY, "back office answered 503"),
        (FileOutcome.PROCESSED, ""),
    ]


def test_a_file_handled_but_not_moved_is_only_moved_at_the_next_poll(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_bytes(b"a")
    (tmp_path / "archive").write_bytes(b"a file where the done folder should be")
    transport = transport_for(tmp_path, done_dir="archive")
    seen = MemorySeenStore()
    handled: list[str] = []

    async def handle(item: FetchedFile) -> None:
        handled.append(item.name)

    def poll() -> dict[str, FileOutcome]:
        return run(receive_files(transport, handle, scope="f", seen=seen, wait=no_wait))

    with pytest.raises(TransientError):
        poll()
    (tmp_path / "archive").unlink()
    assert poll() == {"a.csv": FileOutcome.DUPLICATE}
    assert handled == ["a.csv"]
    assert (tmp_path / "archive" / "a.csv").read_bytes() == b"a"


def test_relative_folders_are_beside_the_catalog_whatever_folder_the_hub_starts_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A nightly file goes where the catalog says, not wherever the process was started."""
    from expediter.web.app import read_catalog

    site = tmp_path / "site"
    site.mkdir()
    (site / "expediter.toml").write_text(
        '[hub]\ndatabase = "hub.db"\n\n'
        '[[systems]]\nid = "shared_drive"\nkind = "back_office"\nconnector = "folder"\nowner = "ops"\n'
        'settings = { inbox_dir = "drop", upload_dir = "exports" }\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    catalog = read_catalog(site / "expediter.toml")
    [system] = catalog.systems
    transport = CONNECTOR.make_transport(ConnectorContext(catalog=catalog, system=system))

    receipt = run(transport.upload("sales.csv", b"night"))
    assert (site / "data" / "exports" / "sales.csv").read_bytes() == b"night"
    assert receipt.remote_ref == str(site / "data" / "exports" / "sales.csv")
    assert list(elsewhere.iterdir()) == []
    assert transport.endpoint == (site / "data" / "drop").as_uri()


def test_an_upload_removes_a_temporary_file_a_killed_upload_left(tmp_path: Path, clock: ManualClock) -> None:
    out = tmp_path / "out"
    out.mkdir()
    left = out / ".expediter-0123456789ab-sales.csv.part"  # what a killed upload leaves
    left.write_bytes(b"half")
    live = out / ".expediter-ba9876543210-labor.csv.part"  # an upload running in another process
    live.write_bytes(b"in progress")
    long_ago = (clock.now() - STALE_TEMP_AGE - timedelta(minutes=1)).timestamp()
    os.utime(left, (long_ago, long_ago))
    os.utime(live, (clock.now().timestamp(), clock.now().timestamp()))
    run(transport_for(tmp_path, upload_dir="out").upload("sales.csv", b"night"))
    assert sorted(p.name for p in out.iterdir()) == [live.name, "sales.csv"]
