"""The ``sftp`` connector: files to and from an SFTP server with a pinned host key."""

from __future__ import annotations

import msgspec

from expediter.connectors.sftp.client import SftpTransport, pinned_key
from expediter.connectors.sftp.config import SECRET_SETTINGS, SftpSettings
from expediter.plugin import Capability, ConfigError, Connector, ConnectorContext, SettingProblem, where


def make_transport(ctx: ConnectorContext, flow_id: str | None = None) -> SftpTransport:
    """The transport for ``ctx.system``; ``flow_id`` (if given) is named in error messages."""
    try:
        settings = msgspec.convert(ctx.system.settings, SftpSettings)
    except msgspec.ValidationError as exc:
        hint = ""
        if "host_key" in str(exc):
            hint = "; host_key pins the server: copy its key line from `ssh-keyscan -t ed25519 HOST`"
        raise ConfigError(f"system {ctx.system.id}: sftp settings: {exc}{hint}") from None
    return SftpTransport(settings, label=where(ctx.system.id, flow_id))


def check(ctx: ConnectorContext) -> list[SettingProblem]:
    """A host key that is not a key (the starter's placeholder) pins nothing: the hub would refuse
    every connection, so it is a problem before the first nightly file."""
    settings = msgspec.convert(ctx.system.settings, SftpSettings)
    try:
        pinned_key(settings.host_key, label=ctx.system.id)
    except ConfigError:
        return [
            SettingProblem(
                key="host_key",
                message="host_key is not an OpenSSH public key line (still the placeholder?): the hub"
                " cannot tell the server from an impostor, so it would never connect",
                fix=f"paste the server's key: run `ssh-keyscan -t ed25519 {settings.host}` and copy"
                " 'ssh-ed25519 AAAA...' (or ask the server's administrator for it)",
            )
        ]
    return []


CONNECTOR = Connector(
    name="sftp",
    title="SFTP server",
    capabilities=frozenset({Capability.TRANSPORT}),
    settings_type=SftpSettings,
    secret_settings=SECRET_SETTINGS,
    make_transport=make_transport,
    transports=frozenset({"sftp"}),
    check=check,
    description="Uploads and picks up files over SFTP (pinned host key; password or private key).",
)
