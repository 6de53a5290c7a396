"""The ``ftp`` connector: files to and from an FTP server, or FTPS (explicit TLS) with ``tls = true``."""

from __future__ import annotations

from pathlib import Path

import msgspec

from expediter.connectors.ftp.client import FtpTransport
from expediter.connectors.ftp.config import SECRET_SETTINGS, FtpSettings
from expediter.plugin import Capability, ConfigError, Connector, ConnectorContext, catalog_folder, where


def make_transport(ctx: ConnectorContext, flow_id: str | None = None) -> FtpTransport:
    """The transport for ``ctx.system``; ``flow_id`` (if given) is named in error messages. A
    relative ``ca_file`` is beside the catalog, like the database."""
    try:
        settings = msgspec.convert(ctx.system.settings, FtpSettings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"system {ctx.system.id}: ftp settings: {exc}") from None
    if settings.ca_file and not Path(settings.ca_file).expanduser().is_absolute():
        settings.ca_file = str(catalog_folder(ctx.catalog) / settings.ca_file)
    return FtpTransport(settings, label=where(ctx.system.id, flow_id))


CONNECTOR = Connector(
    name="ftp",
    title="FTP / FTPS server",
    capabilities=frozenset({Capability.TRANSPORT}),
    settings_type=FtpSettings,
    secret_settings=SECRET_SETTINGS,
    make_transport=make_transport,
    transports=frozenset({"ftp", "ftps"}),
    description="Uploads and picks up files over FTP, or FTPS with explicit TLS (tls = true).",
)
