"""``hub.database`` by reference: the whole URL (``env:`` / ``file:``) or only its password, resolved
where the database is opened, checked by ``check``, and never printed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from expediter.catalog.load import load_catalog
from expediter.catalog.problems import errors
from expediter.catalog.secrets import SecretUnavailable, resolve_database
from expediter.check.catalog import check_catalog
from expediter.engine.hub import Hub
from expediter.storage.postgres import PostgresStorage
from expediter.web.app import read_catalog
from tests.catalog.helpers import write_catalog
from tests.engine.helpers import TEST_CONNECTORS, order_message, sample_catalog

DATABASE_LINE = 'database = "hub.db"'


def test_a_password_reference_is_resolved_and_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_DB_PASSWORD", "p@ss:w/rd")
    url = resolve_database("postgresql://expediter:env:TEST_DB_PASSWORD@db.example.net:5432/hub")
    assert unquote(urlsplit(url).password or "") == "p@ss:w/rd"
    assert urlsplit(url).hostname == "db.example.net" and urlsplit(url).path == "/hub"
    assert resolve_database("hub.db") == "hub.db"


def test_a_url_in_a_file_beside_the_catalog_is_read_from_there(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "database").write_text("postgresql://expediter@db/hub\n")
    path = write_catalog(tmp_path)
    path.write_text(path.read_text().replace(DATABASE_LINE, 'database = "file:secrets/database"'))
    assert resolve_database(read_catalog(path).hub.database) == "postgresql://expediter@db/hub"


def test_check_names_a_database_reference_that_does_not_resolve(tmp_path: Path) -> None:
    path = write_catalog(tmp_path)
    path.write_text(path.read_text().replace(DATABASE_LINE, 'database = "env:TEST_NO_SUCH_DATABASE"'))
    problems = [
        p
        for p in errors(check_catalog(load_catalog(path), tmp_path, str(path)))
        if p.where == "$.hub.database"
    ]
    assert problems and "TEST_NO_SUCH_DATABASE is not set" in problems[0].message
    with pytest.raises(SecretUnavailable, match=r"hub\.database"):
        resolve_database("env:TEST_NO_SUCH_DATABASE")


def test_a_hub_opens_the_postgresql_database_its_reference_names(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HUB_DATABASE", postgres_url)

    async def scenario() -> int:
        async with Hub(
            sample_catalog("env:TEST_HUB_DATABASE"), connectors=TEST_CONNECTORS, deliver=False
        ) as hub:
            assert isinstance(hub.storage, PostgresStorage)
            await hub.inbox.accept(order_message(1))
            return await hub.inbox.count()

    assert asyncio.run(scenario()) == 1


def test_with_a_postgresql_database_the_hubs_files_go_beside_the_catalog(tmp_path: Path) -> None:
    path = write_catalog(tmp_path)
    path.write_text(path.read_text().replace(DATABASE_LINE, 'database = "postgresql://expediter@db/hub"'))
    assert Path(read_catalog(path).hub.data_dir) == tmp_path / "data"
