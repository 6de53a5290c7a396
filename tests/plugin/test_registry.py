"""The engine finds a connector's part by what the connector declares, never by the connector's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from expediter.catalog.load import load_catalog
from expediter.plugin import Capability, Connector
from expediter.plugin.registry import connector, file_transports, loadable, systems_offering
from tests.catalog.helpers import SECRET_ENV, replaced, write_catalog

KITCHEN = """
[[systems]]
id = "line"
kind = "kds"
connector = "kds"
owner = "Sam"
"""


def test_each_flow_transport_is_carried_by_the_connector_that_declares_it() -> None:
    carriers = {name: found.name for name, found in file_transports().items()}
    assert carriers == {"folder": "folder", "ftp": "ftp", "ftps": "ftp", "sftp": "sftp"}


def test_a_connector_that_fails_to_load_carries_nothing() -> None:
    def broken(name: str) -> Connector | None:
        raise ImportError(f"no module for {name}")

    assert loadable("sftp", broken) is None
    assert file_transports(["sftp", "folder"], broken) == {}
    assert file_transports(["sftp", "csv"], connector).keys() == {"sftp"}


def test_the_kitchen_screens_are_the_systems_whose_connector_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    text = replaced("[[flows]]", KITCHEN + "\n[[flows]]")
    catalog = load_catalog(write_catalog(tmp_path, text))
    assert [s.id for s in systems_offering(catalog, Capability.KITCHEN_SCREENS)] == ["line"]
    assert [s.id for s in systems_offering(catalog, Capability.TRANSPORT)] == ["pos", "back_office"]


def test_serve_keeps_the_kitchen_screens_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from expediter.cli import app

    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    path = write_catalog(tmp_path, replaced("[[flows]]", KITCHEN + "\n[[flows]]"))
    result = CliRunner().invoke(app, ["serve", str(path), "--workers", "2"])
    assert result.exit_code == 2, result.output
    assert "the kitchen screens live in one process" in result.output
