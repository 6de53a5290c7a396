"""Storage backends behind one interface; :func:`open_storage` picks one from the catalog's setting."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from expediter.errors import ConfigError
from expediter.storage.base import Storage, Tx
from expediter.storage.sqlite import SqliteStorage

__all__ = ["SqliteStorage", "Storage", "Tx", "is_postgres", "open_storage", "reader"]


def is_postgres(url_or_path: str | Path) -> bool:
    return str(url_or_path).startswith(("postgresql://", "postgres://"))


def reader(url_or_path: str | Path) -> AbstractContextManager[Tx]:
    """One plain connection to an existing database: nothing migrated or created (a look from
    outside the hub, ``expediter status``). Connection failures raise the driver's error."""
    text = str(url_or_path)
    if is_postgres(text):
        from expediter.storage import postgres

        return postgres.reader(text)
    from expediter.storage import sqlite

    return sqlite.reader(text.removeprefix("sqlite:///"))


def open_storage(url_or_path: str | Path, *, statement_timeout_ms: int | None = None) -> Storage:
    """A SQLite file path (the default), or a ``postgresql://`` URL (PostgreSQL through psycopg 3,
    multi-host URLs included). Secret references (``env:NAME``, ``file:PATH``) are resolved by the
    catalog's loader before this is called. ``statement_timeout_ms``: PostgreSQL's, on every
    connection (the catalog's ``hub.statement_timeout_ms``)."""
    text = str(url_or_path)
    if is_postgres(text):
        from expediter.storage.postgres import PostgresStorage

        if statement_timeout_ms is None:
            return PostgresStorage(text)
        return PostgresStorage(text, statement_timeout_ms=statement_timeout_ms)
    if text in (":memory:", "sqlite:///:memory:"):
        raise ConfigError(
            "hub.database cannot be ':memory:': the hub reads and writes through several connections;"
            " use a file path such as 'expediter.db'"
        )
    return SqliteStorage(text.removeprefix("sqlite:///"))
