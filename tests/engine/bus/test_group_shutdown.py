"""A group hub asked to stop (SIGTERM) stops, though kitchen screens hold their live feeds open on
it and the NATS server it was connected to has just been killed (its client is reconnecting).

A screen's browser never hangs up its feed by itself; a process whose kitchen runs elsewhere
serves that feed from the bus. The server waits for every response in flight before it stops the
hub, so it must end those feeds itself as it begins to stop (as it ends the kitchen's own).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.engine.bus.test_group_failover import STATION, group_catalog, paired_screen, wait_relay_held
from tests.engine.test_crash import start_server, stop
from tests.nats_servers import NatsCluster, NatsServer
from tests.processes import Receiver, kill_group, receiver
from tests.web.signin import add_user_by_command

pytestmark = [pytest.mark.slow, pytest.mark.service]
__all__ = ["receiver"]  # the fixture, used by name


class HeldFeed:
    """A screen's live feed, read as a browser reads it: never hung up by the client, without a
    read timeout; ``ended`` once the server ends it."""

    def __init__(self, base: str, cookies: httpx.Cookies) -> None:
        self.base = base
        self.cookies = cookies
        self.caught_up = threading.Event()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        timeout = httpx.Timeout(20.0, read=None)
        try:
            with (
                httpx.Client(base_url=self.base, cookies=self.cookies, timeout=timeout) as client,
                client.stream("GET", f"/kds/{STATION}/events") as feed,
            ):
                assert feed.status_code == 200, feed.read()
                for line in feed.iter_lines():
                    if line == "event: caught_up":
                        self.caught_up.set()
        except httpx.TransportError:
            pass
        finally:
            self.ended.set()


def started(feeds: Iterator[HeldFeed]) -> list[HeldFeed]:
    found = list(feeds)
    for feed in found:
        feed.thread.start()
    for feed in found:
        assert feed.caught_up.wait(60), "a screen's feed never caught up"
    return found


def connected_server(pid: int, cluster: NatsCluster) -> NatsServer:
    """The NATS server the process ``pid`` is connected to: the peer of one of its established
    TCP sockets (``/proc``: its descriptors' inodes, the kernel's table of connections)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target.removeprefix("socket:[").removesuffix("]"))
    by_port = {server.port: server for server in cluster.servers}
    for row in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        remote_port, state, inode = int(fields[2].split(":")[1], 16), fields[3], fields[9]
        if state == "01" and inode in inodes and remote_port in by_port:
            return by_port[remote_port]
    raise AssertionError(f"process {pid} is connected to no NATS server of the cluster")


def test_a_hub_stops_on_sigterm_with_screens_on_its_bus_feeds_and_a_nats_server_down(
    tmp_path: Path, postgres_url: str, nats_cluster: NatsCluster, receiver: Receiver
) -> None:
    receiver.gate.set()
    config = group_catalog(tmp_path, postgres_url, nats_cluster, receiver.url)
    hubs: list[subprocess.Popen[bytes]] = []
    try:
        kitchen, kitchen_base = start_server(config, 1)
        hubs.append(kitchen)
        wait_relay_held(postgres_url)
        add_user_by_command(config)
        cookies = paired_screen(kitchen_base)
        other, other_base = start_server(config, 1)  # a standby: its screens' feeds come from the bus
        hubs.append(other)
        feeds = started(HeldFeed(other_base, cookies) for _ in range(3))

        connected_server(other.pid, nats_cluster).kill()  # the hub's client is reconnecting now
        stop(other)  # SIGTERM; the fixture's 30 s, then SIGKILL (and a TimeoutExpired)

        assert other.returncode == 0
        assert all(feed.ended.wait(30) for feed in feeds)
    finally:
        for process in hubs:
            kill_group(process)
            process.wait(timeout=30)
