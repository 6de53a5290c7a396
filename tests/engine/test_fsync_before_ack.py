"""Every 2xx leaves only after the order it acknowledges is fsynced: seen from the system calls.

The crash test kills the hub, but a killed process's writes survive in the kernel's page cache,
so it cannot tell a commit that was fsynced from one that was not. Here ``expediter serve`` runs
under ``strace``, and for every acknowledged order the trace must show, in this order: a write to
the WAL that holds the order, an ``fdatasync``/``fsync`` of the WAL that started after that write,
finished, and only then the response's ``HTTP/1.1 202`` written to the client's socket. It fails
if the hub acknowledges before it commits, or commits without syncing (``synchronous=NORMAL``
leaves the WAL to the next checkpoint).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from expediter.sim.ports import free_port
from tests.engine.test_crash import order
from tests.processes import kill_group, serve_catalog, serve_command, wait_healthy

pytestmark = [pytest.mark.slow, pytest.mark.service]
TOKEN = "fsync-test-token"
ORDERS = 24
CLIENTS = 4
TRACED = "pwrite64,write,writev,sendto,sendmsg,fdatasync,fsync"

_START = re.compile(r"^(\d+) +(\w+)\((\d+)<(.*?)>(?=, |\)| <unfinished)(.*)$")
_RESUMED = re.compile(r"^(\d+) +<\.\.\. (\w+) resumed>")


@dataclass
class Call:
    """One system call in the trace: its thread, its name, the file it used (``strace -y``), the
    text of its arguments, and the trace lines where it started and where it returned."""

    thread: int
    name: str
    fd: int
    path: str
    args: str
    start: int
    end: int


def parse_trace(lines: list[str]) -> list[Call]:
    """The traced calls on files and sockets; a call another thread interrupted in the trace
    (``<unfinished ...>`` … ``<... resumed>``) ends where it resumed."""
    calls: list[Call] = []
    open_calls: dict[tuple[int, str], Call] = {}
    for index, line in enumerate(lines):
        if match := _START.match(line):
            thread, name, fd, path, args = match.groups()
            call = Call(int(thread), name, int(fd), path, args.removeprefix(", "), index, index)
            calls.append(call)
            if line.endswith("<unfinished ...>"):
                open_calls[(call.thread, name)] = call
        elif match := _RESUMED.match(line):
            resumed = open_calls.pop((int(match[1]), match[2]), None)
            if resumed is not None:
                resumed.end = index
    return calls


def acknowledged_after_fsync(calls: list[Call], wal: str, order_id: str) -> str | None:
    """``None`` when the trace proves the order was synced before its 2xx; otherwise what is wrong."""
    is_socket = [call.path.startswith("socket:") for call in calls]
    body = next(
        (i for i, call in enumerate(calls) if is_socket[i] and order_id in call.args),
        None,
    )
    if body is None:
        return "no response carrying it was written to a socket"
    head = max(
        (
            i
            for i in range(body + 1)
            if is_socket[i] and calls[i].fd == calls[body].fd and calls[i].args.startswith('"HTTP/1.1 ')
        ),
        default=body,
    )
    if not calls[head].args.startswith('"HTTP/1.1 202'):
        return f"answered {calls[head].args[1:13]!r}"
    acked_at = calls[head].start
    stored = [
        call
        for call in calls
        if call.name.startswith("pwrite") and call.path == wal and order_id in call.args
    ]
    if not stored:
        return "it was never written to the WAL"
    written = stored[0]  # later commits write its page again, with the rows added since
    if written.start > acked_at:
        return "it was acknowledged before it was written to the WAL"
    synced = [
        call
        for call in calls
        if call.name in ("fdatasync", "fsync") and call.path == wal and call.start > written.end
    ]
    if not synced or synced[0].end > acked_at:
        return "it was acknowledged before the WAL holding it was fsynced"
    return None


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


async def post_orders(base: str) -> dict[str, int]:
    statuses: dict[str, int] = {}
    numbers = iter(range(ORDERS))

    async def client() -> None:
        # a new connection per order: with two processes, the kernel spreads them over both
        fresh = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=fresh) as http:
            for n in numbers:
                response = await http.post(
                    "/api/v1/orders", content=order(n), headers={"Authorization": f"Bearer {TOKEN}"}
                )
                statuses[f"crash-{n}"] = response.status_code

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return statuses


@pytest.mark.parametrize("workers", [1, 2])
def test_every_202_leaves_after_the_fsync_of_the_wal_holding_its_order(tmp_path: Path, workers: int) -> None:
    """One process commits on its writer thread; two commit on their event loops in turn."""
    assert shutil.which("strace"), "strace is missing: run `make test` as root, or apt-get install strace"
    config = serve_catalog(tmp_path, TOKEN)
    trace = tmp_path / "trace.txt"
    port = free_port()
    # --seccomp-bpf: only the traced calls stop the hub; -y: each descriptor's file or socket
    strace = ["strace", "-f", "-qq", "--seccomp-bpf", "-y", "-s", "8192", "-e", f"trace={TRACED}"]
    strace += ["-e", "signal=none", "-o", str(trace), "--"]
    process = subprocess.Popen(
        [*strace, *serve_command(config, port, workers=workers)], start_new_session=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process, timeout=60)
        statuses = asyncio.run(post_orders(base))
        [hub] = children(process.pid)
        os.kill(hub, signal.SIGTERM)  # the hub stops cleanly; strace then ends and writes it all
        # strace ends as its child did (uvicorn re-raises the SIGTERM it handled, after a clean stop)
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        kill_group(process)

    assert statuses == {f"crash-{n}": 202 for n in range(ORDERS)}
    calls = parse_trace(trace.read_text(errors="replace").splitlines())
    wal = os.path.realpath(tmp_path / "hub.db-wal")  # strace -y shows resolved paths
    assert any(call.path == wal for call in calls), "the trace shows no write to the WAL"
    answering = {call.thread for call in calls if call.args.startswith('"HTTP/1.1 202')}
    assert len(answering) == workers  # each process's event loop answered some of them
    problems = {
        order_id: problem
        for order_id in statuses
        if (problem := acknowledged_after_fsync(calls, wal, f'\\"{order_id}\\"')) is not None
    }
    assert problems == {}
