"""Both connectors are declared and reachable through their entry points, as the engine finds them."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from expediter.catalog.secrets import resolve_secret
from expediter.connectors.online.config import OnlineSettings
from expediter.connectors.online.connector import make_processor, make_webhook
from expediter.connectors.square.config import SquareSettings
from expediter.errors import ConfigError
from expediter.plugin.base import Capability, Connector
from tests.connectors.online.support import online_context


@pytest.mark.parametrize(
    ("name", "capabilities", "settings_type", "secrets"),
    [
        (
            "square",
            {Capability.WEBHOOK, Capability.PROCESS, Capability.POLL, Capability.SINK},
            SquareSettings,
            {"signature_key", "access_token"},
        ),
        ("online", {Capability.WEBHOOK, Capability.PROCESS, Capability.SINK}, OnlineSettings, {"secret"}),
    ],
)
def test_entry_point_declares_the_connector(
    name: str, capabilities: set[Capability], settings_type: type, secrets: set[str]
) -> None:
    (entry,) = entry_points(group="expediter.connectors", name=name)
    connector = entry.load()
    assert isinstance(connector, Connector)
    assert connector.name == name
    assert connector.capabilities == capabilities
    assert connector.settings_type is settings_type
    assert connector.secret_settings == secrets
    assert connector.make_webhook and connector.make_processor and connector.make_sink


def test_secret_must_be_a_reference() -> None:
    with pytest.raises(ConfigError, match=r"must be a secret reference"):
        make_webhook(online_context(secret="plain-text-secret"))
    with pytest.raises(ConfigError, match=r"environment variable NOPE_NOT_SET is not set"):
        make_webhook(online_context(secret="env:NOPE_NOT_SET"))


def test_secret_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text("from-a-file\n", encoding="utf-8")
    assert resolve_secret(f"file:{secret_file}") == "from-a-file"
    with pytest.raises(ConfigError, match=r"key\.missing cannot be read"):
        resolve_secret(f"file:{secret_file}.missing")


def test_unknown_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"systems\[online\].settings"):
        make_processor(online_context(replay_window="5m"))
