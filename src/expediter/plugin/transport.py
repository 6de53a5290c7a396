"""Moving files safely, the same way over SFTP, FTP/FTPS and a local folder.

Every file transport keeps the rules Apache Camel's file components made familiar:

- **write to a temporary name, then rename**: a reader never sees half a file under its final name,
  and an existing file is replaced in one step;
- **read only stable files**: a file whose size still changes between two looks is still being
  written (:func:`fetch_stable`);
- **move what was read** to a *done* folder, or to a *failed* folder when it could not be used;
- **the same file twice is processed once**: files are recognised by their sha256 checksum through a
  :class:`SeenStore` (the engine passes its own; :class:`MemorySeenStore` and :class:`StoredSeenStore`,
  in the hub's database, are provided).

Errors follow :mod:`expediter.errors`: a server that cannot be reached is a ``TransientError``; bad
credentials, an unknown or changed host key or a missing folder are a ``TerminalError`` whose message
says what failed, on which server, for which system, and how to fix it. Messages never hold a secret.

Connectors stay declarations: this module never schedules, retries or writes the ledger. Transfers
are reported through a ``record`` callable the engine wires to the ledger.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

import msgspec
import structlog

from expediter.errors import ConfigError, RejectedInput, TerminalError, TransientError
from expediter.model import clock
from expediter.plugin.base import Receipt
from expediter.storage.base import Storage, now_iso
from expediter.storage.side_files import SideFile, SideTable

log = structlog.get_logger(__name__)

TEMP_PREFIX = ".expediter-"
TEMP_SUFFIX = ".part"


class RemoteFile(msgspec.Struct, frozen=True, kw_only=True):
    """One file in a transport's inbox folder, as listed (not yet read)."""

    name: str
    size: int
    mtime: datetime


@runtime_checkable
class Transport(Protocol):
    """What every file transport offers; names are plain file names, folders come from settings."""

    endpoint: str
    """Where it goes, for messages and the ledger: ``sftp://host:22/inbox`` (never a password)."""

    async def upload(self, name: str, data: bytes) -> Receipt:
        """Write ``data`` as ``name`` in the upload folder: temporary name first, then rename."""
        ...

    async def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        """Files in the inbox folder matching a shell ``pattern``; temporary files are left out."""
        ...

    async def download(self, name: str) -> bytes:
        """The whole content of ``name`` in the inbox folder."""
        ...

    async def move_to_done(self, name: str) -> str:
        """Move ``name`` from the inbox to the done folder; returns its new path."""
        ...

    async def move_to_failed(self, name: str) -> str:
        """Move ``name`` from the inbox to the failed folder; returns its new path."""
        ...

    async def close(self) -> None:
        """Release any open connection (safe to call twice)."""
        ...


# --- names and checksums ------------------------------------------------------------------------


def temp_name(name: str) -> str:
    """A unique hidden name beside ``name`` for writing before the rename."""
    return f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{name}{TEMP_SUFFIX}"


def is_temp_name(name: str) -> bool:
    """True for names written by :func:`temp_name` (never listed as incoming files)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


_OUR_TEMP_NAME = re.compile(rf"{re.escape(TEMP_PREFIX)}[0-9a-f]{{12}}-.+{re.escape(TEMP_SUFFIX)}", re.DOTALL)
STALE_TEMP_AGE = timedelta(hours=1)
"""A temporary file of ours not written to for this long belongs to an upload that died (the
process was killed, the link dropped): a live upload writes to it all the time."""


def is_stale_temp_file(name: str, modified: datetime) -> bool:
    """Whether ``name`` is a temporary file :func:`temp_name` made, left unchanged since
    ``modified`` for longer than :data:`STALE_TEMP_AGE` (so it may be removed)."""
    return _OUR_TEMP_NAME.fullmatch(name) is not None and clock.now() - modified > STALE_TEMP_AGE


def matches(name: str, pattern: str) -> bool:
    """Whether ``name`` is an incoming file for ``pattern`` (temporary files never are)."""
    return not is_temp_name(name) and fnmatch.fnmatchcase(name, pattern)


def check_file_name(name: str) -> str:
    """Refuse names to write that would leave the configured folder (``../x``, ``a/b``, and
    ``a\\b``, a folder on a Windows server) or are empty."""
    if "\\" in name:
        raise RejectedInput(
            f"file name {name!r} is not a plain file name",
            fix="use a name without folders, e.g. 'sales-2026-03-08.csv'",
        )
    return check_listed_name(name)


def check_listed_name(name: str) -> str:
    """Refuse a name from an inbox listing only when it would leave the folder (``..``, ``a/b``)
    or is empty. A backslash is an ordinary character in the names a folder or POSIX server lists
    (``odd\\name.csv``: one file in the inbox), so such a file is picked up like any other."""
    if not name or name in {".", ".."} or "/" in name or "\0" in name:
        raise RejectedInput(
            f"file name {name!r} is not a plain file name",
            fix="use a name without folders, e.g. 'sales-2026-03-08.csv'",
        )
    return name


def printable_name(name: str) -> str:
    """``name`` (or a message holding it) as text the ledger can store: bytes that are not UTF-8
    (a name written on an old Windows machine, which the operating system hands back as
    surrogates) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def receipt_for(name: str, data: bytes, remote_ref: str) -> Receipt:
    return Receipt(records=1, bytes=len(data), remote_ref=remote_ref, checksum=f"sha256:{sha256_hex(data)}")


def unique_done_name(name: str, existing: set[str]) -> str:
    """``name`` unless already in the target folder; then ``name.<UTC stamp>`` so history is kept."""
    if name not in existing:
        return name
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    return f"{name}.{stamp}"


# --- secrets ------------------------------------------------------------------------------------


def secret_path(ref: str, *, setting: str) -> Path:
    """A file path from ``file:PATH`` (used for private keys, which are read by their library)."""
    kind, _, target = ref.partition(":")
    if kind != "file" or not target:
        raise ConfigError(f"{setting} must be 'file:PATH' to a key file")
    return Path(target).expanduser()


# --- the already-seen store ---------------------------------------------------------------------


@runtime_checkable
class SeenStore(Protocol):
    """Remembers the checksums of incoming files already processed, per scope (flow or system)."""

    async def seen(self, scope: str, checksum: str) -> bool: ...

    async def remember(self, scope: str, checksum: str, name: str) -> None: ...


class MemorySeenStore:
    """Checksums in a set: for tests and one-shot runs."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}

    async def seen(self, scope: str, checksum: str) -> bool:
        return (scope, checksum) in self.entries

    async def remember(self, scope: str, checksum: str, name: str) -> None:
        self.entries.setdefault((scope, checksum), name)


SEEN_FILES = SideFile("seen-files.db", (SideTable("seen_files", ["scope", "checksum", "name", "seen_at"]),))
"""The SQLite file older versions kept the checksums in (``data/seen-files.db``), copied in once."""


class StoredSeenStore:
    """Checksums in the hub's database (``seen_files``, migration ``0021_seen_files``), so a
    restart does not process yesterday's files again."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def seen(self, scope: str, checksum: str) -> bool:
        sql = "SELECT name FROM seen_files WHERE scope = ? AND checksum = ?"
        return await self.storage.read(lambda tx: tx.one(sql, (scope, checksum))) is not None

    async def remember(self, scope: str, checksum: str, name: str) -> None:
        sql = (
            "INSERT INTO seen_files (scope, checksum, name, seen_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (scope, checksum) DO NOTHING"
        )
        await self.storage.write(lambda tx: tx.execute(sql, (scope, checksum, name, now_iso())))


# --- receiving files ----------------------------------------------------------------------------


class FileOutcome(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    """Same checksum as a file already processed: moved to done, not handled again."""
    FAILED = "failed"
    """The handler refused it (``RejectedInput`` / ``TerminalError``): moved to the failed folder."""
    RETRY = "retry"
    """The handler hit a ``TransientError``: left in the inbox for the next poll."""


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class TransferRecord(msgspec.Struct, kw_only=True):
    """One file moved, for the engine to write to the ledger."""

    scope: str
    direction: Direction
    endpoint: str
    name: str
    bytes: int
    checksum: str
    outcome: FileOutcome
    started_at: datetime
    duration_ms: float
    error: str = ""
    remote_ref: str = ""
    """The document's id in the destination, for transports that post to an API (they set
    ``reports_remote_ref = True``); file transports leave it empty and the ledger keeps the name."""


RecordTransfer = Callable[[TransferRecord], Awaitable[None]]
HandleFile = Callable[["FetchedFile"], Awaitable[None]]
Wait = Callable[[float], Awaitable[None]]


class FetchedFile(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    data: bytes
    checksum: str
    """``sha256:<hex>`` of ``data``."""
    mtime: datetime


async def stable_files(
    transport: Transport, pattern: str = "*", *, interval: float = 2.0, wait: Wait = asyncio.sleep
) -> list[RemoteFile]:
    """Files whose size and modification time did not change across two looks ``interval`` apart.

    A file still being written by the other side is left for a later poll. ``wait`` is injectable so
    tests (and an accelerated demo clock) decide what happens between the two looks.
    """
    first = {f.name: f for f in await transport.list_files(pattern)}
    if not first:
        return []
    await wait(interval)
    second = await transport.list_files(pattern)
    return [f for f in second if f.name in first and _same_look(first[f.name], f)]


def _same_look(a: RemoteFile, b: RemoteFile) -> bool:
    return a.size == b.size and a.mtime == b.mtime


async def fetch_stable(
    transport: Transport,
    pattern: str = "*",
    *,
    interval: float = 2.0,
    wait: Wait = asyncio.sleep,
) -> list[FetchedFile]:
    """Download every stable file matching ``pattern`` (see :func:`stable_files`), oldest first;
    a file whose name the hub will not touch (``..``, a name with a ``/``) is left out."""
    fetched, _ = await _fetch_stable(transport, pattern, interval=interval, wait=wait)
    return fetched


async def _fetch_stable(
    transport: Transport, pattern: str, *, interval: float, wait: Wait
) -> tuple[list[FetchedFile], list[tuple[RemoteFile, RejectedInput]]]:
    """The stable files downloaded, and those refused by their name (with why)."""
    files = sorted(
        await stable_files(transport, pattern, interval=interval, wait=wait), key=lambda f: (f.mtime, f.name)
    )
    fetched, refused = [], []
    for remote in files:
        try:
            data = await transport.download(remote.name)
        except RejectedInput as exc:  # a name we will not touch (../x): keep the rest going
            log.warning("file skipped", name=repr(remote.name), endpoint=transport.endpoint, error=str(exc))
            refused.append((remote, exc))
            continue
        fetched.append(
            FetchedFile(
                name=remote.name, data=data, checksum=f"sha256:{sha256_hex(data)}", mtime=remote.mtime
            )
        )
    return fetched, refused


async def receive_files(
    transport: Transport,
    handle: HandleFile,
    *,
    scope: str,
    seen: SeenStore,
    pattern: str = "*",
    interval: float = 2.0,
    wait: Wait = asyncio.sleep,
    record: RecordTransfer | None = None,
) -> dict[str, FileOutcome]:
    """Fetch stable files, hand each new one to ``handle`` once, then move it to done or failed.

    ``handle`` raising ``RejectedInput`` or ``TerminalError`` sends the file to the failed folder;
    ``TransientError`` (from the handler or the transport) is recorded as ``retry``, leaves the file
    in place for the next poll and propagates. A file handled but not yet moved (the server went
    down in between) is recognised by its checksum at the next poll and only moved. A file whose
    name the hub will not touch stays where it is and is recorded as failed once, with the reason.
    ``scope`` (a flow or system id) keeps the checksums of unrelated flows apart.
    """
    outcomes: dict[str, FileOutcome] = {}
    fetched, refused = await _fetch_stable(transport, pattern, interval=interval, wait=wait)
    for remote, exc in refused:
        if await _first_refusal(seen, scope, remote.name):
            outcomes[remote.name] = FileOutcome.FAILED
            if record is not None:
                await record(_refused_name_record(transport, scope, remote, exc))
    for item in fetched:
        started, timer = clock.now(), time.perf_counter()
        retry: TransientError | None = None
        try:
            outcome, error = await _receive_one(transport, handle, item, scope=scope, seen=seen)
        except TransientError as exc:
            outcome, error, retry = FileOutcome.RETRY, str(exc), exc
        outcomes[item.name] = outcome
        if record is not None:
            await record(
                TransferRecord(
                    scope=scope,
                    direction=Direction.IN,
                    endpoint=transport.endpoint,
                    name=printable_name(item.name),
                    bytes=len(item.data),
                    checksum=item.checksum,
                    outcome=outcome,
                    started_at=started,
                    duration_ms=(time.perf_counter() - timer) * 1000,
                    error=printable_name(error),
                )
            )
        if retry is not None:
            raise retry
    return outcomes


async def _first_refusal(seen: SeenStore, scope: str, name: str) -> bool:
    """Whether a file refused by its name is new: it cannot be moved away, so without this every
    poll would record it again."""
    key = f"name:{sha256_hex(name.encode('utf-8', 'surrogateescape'))}"
    if await seen.seen(scope, key):
        return False
    await seen.remember(scope, key, printable_name(name))
    return True


def _refused_name_record(
    transport: Transport, scope: str, remote: RemoteFile, exc: RejectedInput
) -> TransferRecord:
    return TransferRecord(
        scope=scope,
        direction=Direction.IN,
        endpoint=transport.endpoint,
        name=printable_name(remote.name),
        bytes=remote.size,
        checksum="",
        outcome=FileOutcome.FAILED,
        started_at=clock.now(),
        duration_ms=0.0,
        error=printable_name(
            f"{exc} (the file was left in the inbox; once renamed it is picked up at the next poll)"
        ),
    )


async def _receive_one(
    transport: Transport, handle: HandleFile, item: FetchedFile, *, scope: str, seen: SeenStore
) -> tuple[FileOutcome, str]:
    if await seen.seen(scope, item.checksum):
        await transport.move_to_done(item.name)
        return FileOutcome.DUPLICATE, ""
    try:
        await handle(item)
    except (RejectedInput, TerminalError) as exc:
        await transport.move_to_failed(item.name)
        return FileOutcome.FAILED, str(exc)
    await seen.remember(scope, item.checksum, printable_name(item.name))
    await transport.move_to_done(item.name)
    return FileOutcome.PROCESSED, ""


async def send_file(
    transport: Transport,
    name: str,
    data: bytes,
    *,
    scope: str,
    record: RecordTransfer | None = None,
) -> Receipt:
    """Upload one file and report the transfer; errors propagate after being recorded."""
    started, timer = clock.now(), time.perf_counter()
    error = ""
    remote_ref = ""
    try:
        receipt = await transport.upload(name, data)
        if getattr(transport, "reports_remote_ref", False):  # an API's document id, not a path
            remote_ref = receipt.remote_ref
        return receipt
    except Exception as exc:
        error = str(exc) or type(exc).__name__
        raise
    finally:
        if record is not None:
            await record(
                TransferRecord(
                    scope=scope,
                    direction=Direction.OUT,
                    endpoint=transport.endpoint,
                    name=name,
                    bytes=len(data),
                    checksum=f"sha256:{sha256_hex(data)}",
                    outcome=FileOutcome.FAILED if error else FileOutcome.PROCESSED,
                    started_at=started,
                    duration_ms=(time.perf_counter() - timer) * 1000,
                    error=error,
                    remote_ref=remote_ref,
                )
            )


def where(system_id: str, flow_id: str | None = None) -> str:
    """``flow X / system Y`` for error messages, so the manager knows which catalog entry to fix."""
    return f"flow {flow_id} / system {system_id}" if flow_id else f"system {system_id}"
