"""Where a catalog's relative paths point: beside the catalog, never the working folder.

``read_catalog`` puts a relative ``hub.database`` beside the catalog file, so the database's folder is
the catalog's folder from then on; ``hub.data_dir``, recipe books and ``file:`` secrets are read
relative to it.
"""

from __future__ import annotations

from pathlib import Path

from expediter.catalog.schema import Catalog


def catalog_folder(catalog: Catalog) -> Path:
    """The folder relative settings are read from: the database's folder, else the working folder
    (a PostgreSQL URL or an in-memory database has no folder)."""
    database = catalog.hub.database
    if "://" in database or database == ":memory:":
        return Path.cwd()
    return Path(database).resolve().parent


def data_dir(catalog: Catalog) -> Path:
    """``hub.data_dir``: as given when absolute, else under :func:`catalog_folder`."""
    folder = Path(catalog.hub.data_dir)
    return folder if folder.is_absolute() else catalog_folder(catalog) / folder
