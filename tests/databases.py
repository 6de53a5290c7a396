"""Read a hub's database directly, whichever backend holds it (what an operator's SQL client sees)."""

from __future__ import annotations

import sqlite3
from typing import Any

from expediter.storage import is_postgres


def query(database: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` (``?`` placeholders) on a SQLite file or a ``postgresql://`` URL."""
    if is_postgres(database):
        import psycopg

        with psycopg.connect(database) as conn:
            return [tuple(row) for row in conn.execute(sql.replace("?", "%s"), params).fetchall()]
    with sqlite3.connect(database) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]
