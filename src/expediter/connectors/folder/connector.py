"""The ``folder`` connector: a local watched folder as a file transport."""

from __future__ import annotations

import msgspec

from expediter.connectors.folder.client import FolderTransport
from expediter.connectors.folder.config import FolderSettings
from expediter.plugin import Capability, ConfigError, Connector, ConnectorContext, data_dir, where


def make_transport(ctx: ConnectorContext, flow_id: str | None = None) -> FolderTransport:
    """Build the transport for ``ctx.system``; relative folders are under the hub's ``data_dir``,
    which is beside the catalog (never the folder the process was started in)."""
    try:
        settings = msgspec.convert(ctx.system.settings, FolderSettings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"system {ctx.system.id}: folder settings: {exc}") from None
    base = data_dir(ctx.catalog)
    inbox = base / settings.inbox_dir
    return FolderTransport(
        inbox=inbox,
        upload=base / settings.upload_dir if settings.upload_dir else inbox,
        done=base / settings.done_dir if settings.done_dir else inbox / "done",
        failed=base / settings.failed_dir if settings.failed_dir else inbox / "failed",
        label=where(ctx.system.id, flow_id),
    )


CONNECTOR = Connector(
    name="folder",
    title="Watched folder",
    capabilities=frozenset({Capability.TRANSPORT}),
    settings_type=FolderSettings,
    make_transport=make_transport,
    transports=frozenset({"folder"}),
    description="Reads files dropped into a local folder and writes files there, rename-safe.",
)
