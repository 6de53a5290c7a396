"""Storage backends behind one interface; :func:`open_storage` picks one from the catalog's setting."""

from __future__ import annotations

from pathlib import Path

from expediter.engine.storage.base import Storage, Tx
from expediter.engine.storage.sqlite import SqliteStorage
from expediter.errors import ConfigError

__all__ = ["SqliteStorage", "Storage", "Tx", "open_storage"]


def open_storage(url_or_path: str | Path) -> Storage:
    """A SQLite file path (the default), or a ``postgresql://`` URL once that backend lands."""
    text = str(url_or_path)
    if text.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "the PostgreSQL backend is not available yet; set hub.database to a SQLite file path"
        )
    if text in (":memory:", "sqlite:///:memory:"):
        raise ConfigError(
            "hub.database cannot be ':memory:': the hub reads and writes through several connections;"
            " use a file path such as 'expediter.db'"
        )
    return SqliteStorage(text.removeprefix("sqlite:///"))
