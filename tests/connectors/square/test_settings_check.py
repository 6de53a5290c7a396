"""A Square system the hub could not verify webhooks for is a configuration error before it starts:
``expediter check`` names the setting, and ``expediter serve`` refuses with the same words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from expediter.catalog.load import load_catalog
from expediter.catalog.problems import errors
from expediter.check.catalog import check_catalog
from expediter.sim.ports import free_port

SQUARE = """
[hub]
database = "hub.db"
{public_url}

[[locations]]
id = "main"
name = "Main"
timezone = "America/New_York"

[[systems]]
id = "pos"
kind = "pos"
connector = "square"
owner = "Dana"
[systems.settings]
signature_key = "{signature_key}"
access_token = "env:TEST_SQUARE_TOKEN"
{notification_url}
"""
ENV = {"TEST_SQUARE_KEY": "not-a-real-key", "TEST_SQUARE_TOKEN": "not-a-real-token"}


def square_catalog(folder: Path, *, key: str, public_url: str = "", notification_url: str = "") -> Path:
    path = folder / "expediter.toml"
    path.write_text(
        SQUARE.format(
            signature_key=key,
            public_url=f'public_url = "{public_url}"' if public_url else "",
            notification_url=f'notification_url = "{notification_url}"' if notification_url else "",
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture(autouse=True)
def square_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def places(path: Path) -> dict[str, str]:
    found = errors(check_catalog(load_catalog(path), path.parent, str(path)))
    return {p.where: f"{p.message} — fix: {p.fix}" for p in found}


def test_an_empty_signature_key_is_an_error_naming_the_setting(tmp_path: Path) -> None:
    found = places(square_catalog(tmp_path, key="", public_url="https://hub.example.com"))
    assert list(found) == ["$.systems[0].settings.signature_key"]
    assert "every webhook would be refused" in found["$.systems[0].settings.signature_key"]
    assert 'signature_key = "env:SQUARE_SIGNATURE_KEY"' in found["$.systems[0].settings.signature_key"]


def test_no_notification_url_and_no_public_url_is_an_error_naming_both(tmp_path: Path) -> None:
    found = places(square_catalog(tmp_path, key="env:TEST_SQUARE_KEY"))
    [problem] = found.values()
    assert list(found) == ["$.systems[0].settings.notification_url"]
    assert "hub.public_url is not set" in problem and "set notification_url" in problem


@pytest.mark.parametrize(
    "where",
    [
        {"public_url": "https://hub.example.com"},
        {"notification_url": "https://hub.example.com/api/v1/webhooks/pos"},
    ],
)
def test_a_key_and_a_signed_url_check_clean(tmp_path: Path, where: dict[str, str]) -> None:
    assert places(square_catalog(tmp_path, key="env:TEST_SQUARE_KEY", **where)) == {}


def test_serve_refuses_to_start_without_the_signature_key(tmp_path: Path) -> None:
    path = square_catalog(tmp_path, key="", public_url="https://hub.example.com")
    command = [sys.executable, "-c", "from expediter.cli import main; main()", "serve", str(path)]
    served = subprocess.run(
        [*command, "--host", "127.0.0.1", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV, "COLUMNS": "200"},
        timeout=60,
        check=False,
    )
    assert served.returncode == 1
    assert "$.systems[0].settings.signature_key" in served.stdout
    assert "no signature key" in served.stdout
    assert not (tmp_path / "hub.db").exists()
