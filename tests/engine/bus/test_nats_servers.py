"""The NATS test servers themselves: a cluster keeps an R3 stream through a node's loss, a node
comes back on its ports and store, and a leaf node with its own JetStream domain joins the cluster."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from nats.js.api import StorageType, StreamConfig

from tests.nats_servers import NatsCluster, NatsServer

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
        except (nats.errors.TimeoutError, nats.js.errors.APIError, nats.errors.NoRespondersError):
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
