"""The streams an edge and the group need, created when missing (either side may come first)."""

from __future__ import annotations

from nats.js.api import ExternalStream, StorageType, StreamConfig, StreamSource
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from expediter.edge.names import DOWN_STREAM, UP_STREAM, down_subject, edge_domain, group_stream, up_subject


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name is not None
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)


def up_stream_config(location: str) -> StreamConfig:
    """On the restaurant's server: what goes up, kept until the group has it (file storage)."""
    return StreamConfig(name=UP_STREAM, subjects=[up_subject(location)], storage=StorageType.FILE)


def down_stream_config() -> StreamConfig:
    """On the group's server: what goes down, one subject tree per location."""
    return StreamConfig(name=DOWN_STREAM, subjects=[down_subject("*")], storage=StorageType.FILE)


def group_copy_config(location: str) -> StreamConfig:
    """On the group's server: the restaurant's up stream, sourced across the leaf connection
    through the restaurant's JetStream domain; NATS resumes where it was after a cut."""
    external = ExternalStream(api=f"$JS.{edge_domain(location)}.API")
    return StreamConfig(
        name=group_stream(location),
        sources=[StreamSource(name=UP_STREAM, external=external)],
        storage=StorageType.FILE,
    )


async def ensure_group_streams(js_group: JetStreamContext, location: str) -> None:
    await ensure_stream(js_group, down_stream_config())
    await ensure_stream(js_group, group_copy_config(location))


async def restart_sourcing(js_group: JetStreamContext, location: str) -> None:
    """Have the group's copy take up the restaurant's stream again now.

    After a cut, a stream retries its source on a growing back-off (measured: 37 s after a
    13 s cut); an update of its configuration, even an unchanged one, retries at once."""
    info = await js_group.stream_info(group_stream(location))
    await js_group.update_stream(info.config)
