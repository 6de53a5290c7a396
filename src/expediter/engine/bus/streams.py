"""The streams the hub publishes to, created or brought up to date when the hub starts."""

from __future__ import annotations

from typing import Any

from expediter.engine.bus.settings import BusSettings


def stream_configs(settings: BusSettings) -> list[Any]:
    """The messages stream (``<prefix>.<kind>.<location>``) and the kitchen's
    (``<prefix>.kitchen.<location>.<station>``): file storage, ``replicas`` copies, the duplicate
    window in which a second publication of a message id is dropped."""
    from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

    common: dict[str, Any] = {
        "num_replicas": settings.replicas,
        "storage": StorageType.FILE,
        "retention": RetentionPolicy.LIMITS,
        "discard": DiscardPolicy.OLD,
        "duplicate_window": settings.duplicate_window,
        "allow_direct": True,
    }
    prefix = settings.subject_prefix
    return [
        StreamConfig(name=settings.messages_stream, subjects=[f"{prefix}.*.*"], **common),
        StreamConfig(name=settings.kitchen_stream, subjects=[f"{prefix}.kitchen.*.*"], **common),
    ]


async def ensure_streams(js: Any, settings: BusSettings) -> list[str]:
    """Create each stream, or update it to this configuration; the names."""
    from nats.js.errors import NotFoundError

    names = []
    for config in stream_configs(settings):
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
        names.append(config.name)
    return names
