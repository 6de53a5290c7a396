"""A local folder as a :class:`~expediter.plugin.transport.Transport`.

Writes go to a hidden temporary file in the target folder, are flushed to disk, then renamed with
``os.replace`` (atomic on one file system), so a program watching the folder never reads half a file.
A temporary file a killed process left behind is removed by the first upload of a later transport,
once it has not changed for :data:`~expediter.plugin.transport.STALE_TEMP_AGE`.
Blocking file calls run in a worker thread so the event loop keeps serving kitchen screens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from expediter.plugin import (
    Receipt,
    RemoteFile,
    TerminalError,
    TransientError,
    check_file_name,
    check_listed_name,
    is_stale_temp_file,
    matches,
    receipt_for,
    temp_name,
    unique_done_name,
)

T = TypeVar("T")


class FolderTransport:
    """Files in local folders: ``inbox`` to read, ``upload`` to write, ``done`` and ``failed``."""

    def __init__(self, inbox: Path, upload: Path, done: Path, failed: Path, *, label: str = "") -> None:
        self.inbox, self.upload_dir, self.done, self.failed = inbox, upload, done, failed
        self.label = label
        self.endpoint = inbox.resolve().as_uri()
        self._swept = False

    async def upload(self, name: str, data: bytes) -> Receipt:
        check_file_name(name)
        target = self.upload_dir / name
        await asyncio.to_thread(self._write_then_rename, target, data)
        return receipt_for(name, data, str(target))

    async def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        return await asyncio.to_thread(self._list, pattern)

    async def download(self, name: str) -> bytes:
        check_listed_name(name)
        return await asyncio.to_thread(self._guard, (self.inbox / name).read_bytes)

    async def move_to_done(self, name: str) -> str:
        return await asyncio.to_thread(self._move, name, self.done)

    async def move_to_failed(self, name: str) -> str:
        return await asyncio.to_thread(self._move, name, self.failed)

    async def close(self) -> None:
        return None

    # --- blocking parts, run in a thread ---

    def _write_then_rename(self, target: Path, data: bytes) -> None:
        def write() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._sweep(target.parent)
            temp = target.with_name(temp_name(target.name))
            try:
                with open(temp, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            finally:
                temp.unlink(missing_ok=True)

        self._guard(write)

    def _sweep(self, folder: Path) -> None:
        """Once per transport: remove stale temporary files of ours (never fails an upload)."""
        if self._swept:
            return
        self._swept = True
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                modified = datetime.fromtimestamp(entry.stat(follow_symlinks=False).st_mtime, UTC)
                if entry.is_file(follow_symlinks=False) and is_stale_temp_file(entry.name, modified):
                    Path(entry.path).unlink(missing_ok=True)

    def _list(self, pattern: str) -> list[RemoteFile]:
        def scan() -> list[RemoteFile]:
            if not self.inbox.is_dir():
                raise FileNotFoundError(str(self.inbox))
            files = []
            for entry in os.scandir(self.inbox):
                if entry.is_file(follow_symlinks=False) and matches(entry.name, pattern):
                    info = entry.stat()
                    mtime = datetime.fromtimestamp(info.st_mtime, UTC)
                    files.append(RemoteFile(name=entry.name, size=info.st_size, mtime=mtime))
            return sorted(files, key=lambda f: f.name)

        return self._guard(scan)

    def _move(self, name: str, folder: Path) -> str:
        check_listed_name(name)

        def move() -> str:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / unique_done_name(name, {p.name for p in folder.iterdir()})
            os.replace(self.inbox / name, target)
            return str(target)

        return self._guard(move)

    def _guard(self, action: Callable[[], T]) -> T:
        """Run a file operation; map OS errors to the retry classes with a message that says where."""
        try:
            return action()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise TerminalError(
                f"{self.label}: {exc.filename or exc} does not exist; create the folder or fix the "
                "folder settings (inbox_dir, upload_dir, done_dir, failed_dir)"
            ) from None
        except PermissionError as exc:
            raise TerminalError(
                f"{self.label}: no permission for {exc.filename}; give the hub's user access to it"
            ) from None
        except OSError as exc:
            raise TransientError(f"{self.label}: {exc.filename or self.inbox}: {exc.strerror}") from None
