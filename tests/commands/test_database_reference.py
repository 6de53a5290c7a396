"""``hub.database`` named by a secret reference (``env:NAME``): every command that opens the
database resolves it the way the hub does, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from expediter.catalog.schema import Hub as HubSettings
from expediter.commands.catalog import _statuses
from expediter.commands.people import with_storage
from expediter.model import clock
from expediter.storage.base import Storage
from tests.commands.test_db import fill
from tests.engine.helpers import sample_catalog

VARIABLE = "EXPEDITER_TEST_DATABASE"


def referenced(database: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv(VARIABLE, database)
    catalog = sample_catalog(database)
    return msgspec.structs.replace(catalog, hub=HubSettings(database=f"env:{VARIABLE}"))


def test_the_people_commands_open_the_database_a_reference_names(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(database, 0, 2)
    catalog = referenced(database, monkeypatch)

    async def messages(storage: Storage) -> int:
        row = await storage.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM messages"))
        return int(row["n"]) if row is not None else 0

    assert with_storage(catalog, messages) == 2  # type: ignore[arg-type]


def test_flows_reads_the_statuses_from_the_database_a_reference_names(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(database, 0, 2)
    catalog = referenced(database, monkeypatch)
    found = _statuses(catalog, tmp_path / "expediter.toml", clock.now())  # type: ignore[arg-type]
    assert found is not None and {"pos-kds", "pos-printer", "pos-bo"} <= set(found)
