"""The streams an edge and the group need, created when missing (either side may come first)."""

from __future__ import annotations

from nats.js.api import ExternalStream, StorageType, StreamConfig, StreamSource
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from expediter.edge.names import DOWN_STREAM, down_subject, edge_domain, group_stream
from expediter.engine.bus.settings import BusSettings


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name is not None
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)


def edge_bus_settings(location: str, server_url: str) -> BusSettings:
    """The bus of a restaurant edge: its own server, one copy of each stream, and a subject tree
    of its own (``expediter.edge.<location>``) that no stream of the group's listens to."""
    return BusSettings(servers=[server_url], replicas=1, subject_prefix=f"expediter.edge.{location}")


def up_streams(settings: BusSettings) -> list[str]:
    """The restaurant's streams the group sources (the bus's messages and kitchen streams)."""
    return [settings.messages_stream, settings.kitchen_stream]


def down_stream_config() -> StreamConfig:
    """On the group's server: what goes down, one subject tree per location."""
    return StreamConfig(name=DOWN_STREAM, subjects=[down_subject("*")], storage=StorageType.FILE)


def group_copy_config(location: str) -> StreamConfig:
    """On the group's server: the restaurant's up stream, sourced across the leaf connection
    through the restaurant's JetStream domain; NATS resumes where it was after a cut."""
    external = ExternalStream(api=f"$JS.{edge_domain(location)}.API")
    names = up_streams(edge_bus_settings(location, ""))
    return StreamConfig(
        name=group_stream(location),
        sources=[StreamSource(name=name, external=external) for name in names],
        storage=StorageType.FILE,
    )


async def ensure_group_streams(js_group: JetStreamContext, location: str) -> None:
    await ensure_stream(js_group, down_stream_config())
    await ensure_stream(js_group, group_copy_config(location))


async def restart_sourcing(js_group: JetStreamContext, location: str) -> None:
    """Have the group's copy take up the restaurant's streams again now.

    A stream whose source cannot be reached (the restaurant not yet there, or cut off) retries it
    on a growing back-off: measured 13 to 39 s, after the link was back. Updating the stream with
    the same configuration did not always retry; taking the sources out and putting them back
    does, and the stream resumes each source after the last message it holds from it."""
    config = (await js_group.stream_info(group_stream(location))).config
    sources, config.sources = config.sources, []
    await js_group.update_stream(config)
    config.sources = sources
    await js_group.update_stream(config)
