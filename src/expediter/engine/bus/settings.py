"""``[hub.bus]`` as the running hub uses it: the servers resolved, the streams and subjects named."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from expediter.catalog.schema import Bus, Catalog
from expediter.catalog.secrets import resolve_bus_servers, resolve_secret

MESSAGES = "MESSAGES"
"""The stream of every accepted message (``<prefix>.<kind>.<location>``)."""
KITCHEN = "KITCHEN"
"""The stream of the kitchen's station events (``<prefix>.kitchen.<location>.<station>``)."""
NO_LOCATION = "_"
_NOT_A_TOKEN = re.compile(r"[^A-Za-z0-9_-]")


def subject_token(value: str | None) -> str:
    """A name made safe as one subject token (no dots, spaces or wildcards)."""
    return _NOT_A_TOKEN.sub("_", value) if value else NO_LOCATION


class BusSettings(msgspec.Struct, frozen=True, kw_only=True):
    servers: list[str]
    token: str | None = None
    replicas: int = 3
    stream_prefix: str = ""
    subject_prefix: str = "expediter"
    duplicate_window: float = 120.0

    @classmethod
    def from_bus(cls, bus: Bus, base_dir: Path | None = None) -> BusSettings:
        """Resolve the secrets of ``bus`` (``SecretUnavailable`` names the one that does not)."""
        token = resolve_secret(bus.token, base_dir, setting="hub.bus.token") if bus.token else None
        return cls(
            servers=resolve_bus_servers(bus.url, base_dir),
            token=token,
            replicas=bus.replicas,
            stream_prefix=bus.stream_prefix,
            subject_prefix=bus.subject_prefix,
            duplicate_window=bus.duplicate_window,
        )

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> BusSettings | None:
        return None if catalog.hub.bus is None else cls.from_bus(catalog.hub.bus)

    @property
    def messages_stream(self) -> str:
        return f"{self.stream_prefix}{MESSAGES}"

    @property
    def kitchen_stream(self) -> str:
        return f"{self.stream_prefix}{KITCHEN}"

    def message_subject(self, kind: str, location_id: str | None) -> str:
        return f"{self.subject_prefix}.{subject_token(kind)}.{subject_token(location_id)}"

    def kitchen_subject(self, location_id: str | None, station: str) -> str:
        return f"{self.subject_prefix}.kitchen.{subject_token(location_id)}.{subject_token(station)}"
