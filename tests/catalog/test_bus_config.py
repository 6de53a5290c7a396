"""``[hub.bus]`` in the catalog: loaded from TOML, its servers and token by reference, checked by
``expediter check`` with a fix for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from expediter.catalog.check import check_catalog
from expediter.catalog.load import load_catalog
from expediter.catalog.problems import Severity
from expediter.engine.bus.settings import BusSettings
from expediter.web.app import read_catalog
from tests.catalog.helpers import replaced, write_catalog

DATABASE_LINE = 'database = "hub.db"'


def with_bus(tmp_path: Path, lines: str) -> Path:
    return write_catalog(tmp_path, replaced(DATABASE_LINE, f"{DATABASE_LINE}\n\n[hub.bus]\n{lines}\n"))


def problems_of(path: Path) -> list[tuple[str, str, Severity]]:
    catalog = load_catalog(path)
    return [
        (p.where, p.message, p.severity)
        for p in check_catalog(catalog, path.parent)
        if p.where.startswith("$.hub.bus")
    ]


def test_a_good_bus_has_no_problem_and_resolves_its_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPEDITER_TEST_NATS_URL", "nats://n1:4222,nats://n2:4222,nats://n3:4222")
    (tmp_path / "nats-token").write_text("t0ken\n")
    path = with_bus(tmp_path, 'url = "env:EXPEDITER_TEST_NATS_URL"\ntoken = "file:nats-token"\nreplicas = 3')
    assert problems_of(path) == []
    settings = BusSettings.from_catalog(read_catalog(path))
    assert settings is not None
    assert settings.servers == ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"]
    assert settings.token == "t0ken"  # the file beside the catalog, wherever the hub starts


def test_each_mistake_is_named_with_its_key(tmp_path: Path) -> None:
    path = with_bus(
        tmp_path,
        'url = ["http://n1:4222"]\ntoken = "inline"\nreplicas = 7\n'
        'stream_prefix = "A.B"\nsubject_prefix = "x.y"',
    )
    found = {where: message for where, message, _ in problems_of(path)}
    assert "is not a NATS server URL" in found["$.hub.bus.url"]
    assert found["$.hub.bus.token"] == "the token is written inline"
    assert found["$.hub.bus.replicas"] == "7 replicas is out of range"
    assert "cannot start a stream name" in found["$.hub.bus.stream_prefix"]
    assert "is not one subject token" in found["$.hub.bus.subject_prefix"]


def test_missing_servers_and_an_unset_secret_are_errors(tmp_path: Path) -> None:
    assert problems_of(with_bus(tmp_path, 'url = ""')) == [
        ("$.hub.bus.url", "no server is named", Severity.ERROR)
    ]
    (where, message, severity), *_ = problems_of(with_bus(tmp_path, 'url = "env:EXPEDITER_TEST_NO_SUCH_VAR"'))
    assert where == "$.hub.bus.url" and "EXPEDITER_TEST_NO_SUCH_VAR" in message and severity is Severity.ERROR


def test_fewer_servers_than_replicas_is_a_warning(tmp_path: Path) -> None:
    found = problems_of(with_bus(tmp_path, 'url = "nats://n1:4222"\nreplicas = 3'))
    assert found == [("$.hub.bus.replicas", "3 replicas but 1 server(s) listed", Severity.WARNING)]
