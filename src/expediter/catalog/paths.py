"""Where a catalog's relative paths point: beside the catalog, never the working folder.

``read_catalog`` puts a relative ``hub.database`` beside the catalog file, so the database's folder is
the catalog's folder from then on; ``hub.data_dir``, recipe books and ``file:`` secrets are read
relative to it.
"""

from __future__ import annotations

from pathlib import Path

from expediter.catalog.schema import Catalog
from expediter.catalog.secrets import anchor_file_references


def catalog_folder(catalog: Catalog) -> Path:
    """The folder relative settings are read from: the database's folder, else the working folder
    (a PostgreSQL URL, a database named by a secret reference or an in-memory database has no
    folder)."""
    database = catalog.hub.database
    return Path(database).resolve().parent if has_folder(database) else Path.cwd()


def has_folder(database: str) -> bool:
    """Whether ``hub.database`` is a SQLite file (not a URL, a secret reference or ``:memory:``)."""
    return not ("://" in database or database == ":memory:" or database.startswith(("env:", "file:")))


def data_dir(catalog: Catalog) -> Path:
    """``hub.data_dir``: as given when absolute, else under :func:`catalog_folder`."""
    folder = Path(catalog.hub.data_dir)
    return folder if folder.is_absolute() else catalog_folder(catalog) / folder


def anchor_to(catalog: Catalog, folder: Path) -> Catalog:
    """``catalog`` (changed in place) as the hub runs it from the catalog file's ``folder``: a
    relative SQLite ``hub.database`` beside the catalog, not in the working folder (with a
    PostgreSQL database, a relative ``data_dir`` beside the catalog), and every relative ``file:``
    reference of the systems' and alert channels' settings made absolute."""
    database = catalog.hub.database
    if database.startswith("file:") and not Path(database.removeprefix("file:")).is_absolute():
        catalog.hub.database = f"file:{folder / database.removeprefix('file:')}"  # a secret's file
    elif database.startswith("env:"):
        pass  # a secret reference, resolved where the database is opened
    elif "://" not in database and database != ":memory:" and not Path(database).is_absolute():
        catalog.hub.database = str(folder / database)
    if not has_folder(catalog.hub.database) and not Path(catalog.hub.data_dir).is_absolute():
        # a server database has no folder: the hub's files go beside the catalog all the same
        catalog.hub.data_dir = str(folder / catalog.hub.data_dir)
    if catalog.hub.bus is not None:
        catalog.hub.bus.url = anchor_file_references(catalog.hub.bus.url, folder)
        catalog.hub.bus.token = anchor_file_references(catalog.hub.bus.token, folder)
    for system in catalog.systems:
        system.settings = anchor_file_references(system.settings, folder)
    for channel in catalog.alert_channels:
        channel.settings = anchor_file_references(channel.settings, folder)
    return catalog
