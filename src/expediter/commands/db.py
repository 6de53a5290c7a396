"""``expediter db migrate``, ``expediter db copy SOURCE TARGET``, ``expediter db backup``: the hub's
database, by hand.

A database is named as ``hub.database`` names it: a SQLite file path or a ``postgresql://`` URL.
``migrate`` and ``backup`` read it from the catalog unless ``--database`` names one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from expediter.commands.common import CatalogOption, catalog_path
from expediter.errors import ConfigError
from expediter.storage import open_storage
from expediter.storage.copy import TableCount, copy_database, counts
from expediter.storage.maintenance import backup as backup_database
from expediter.storage.maintenance import migrate as migrate_database

db_app = typer.Typer(
    help="The hub's database: migrate it, copy it to PostgreSQL, back it up.", no_args_is_help=True
)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="FILE|URL",
        help="A SQLite file or a postgresql:// URL (default: hub.database of the catalog).",
        show_default=False,
    ),
]


def _database(database: str | None, catalog: Path | None) -> str:
    if database:
        return database
    from expediter.catalog.secrets import resolve_database
    from expediter.web.app import read_catalog

    return resolve_database(read_catalog(catalog_path(catalog)).hub.database)


def _shown(database: str) -> str:
    """A database's name for output: a URL without its password."""
    head, at, tail = database.rpartition("@")
    if not at or "://" not in head:
        return database
    scheme, _, user = head.partition("://")
    return f"{scheme}://{user.split(':', 1)[0]}@{tail}"


@db_app.command("migrate")
def migrate(database: DatabaseOption = None, catalog: CatalogOption = None) -> None:
    """Apply the schema migrations the database has not seen (a hub does this at start)."""
    target = _database(database, catalog)
    applied = migrate_database(target)
    if applied:
        typer.echo(f"{_shown(target)}: applied {len(applied)} migrations: {', '.join(applied)}")
    else:
        typer.echo(f"{_shown(target)}: up to date")


@db_app.command("copy")
def copy(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="The database to copy (a SQLite file).")],
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET", help="The database to fill (a postgresql:// URL), new or half-copied."
        ),
    ],
) -> None:
    """Copy a hub's whole history (every table) to another database, usually SQLite to PostgreSQL.

    Stop the hub first. Both sides are migrated to this version first. An interrupted copy is
    resumed by running the same command again. At the end each table's rows are counted on both
    sides; any difference is an error (exit 1)."""
    if source == target:
        raise typer.BadParameter("SOURCE and TARGET are the same database", param_hint="TARGET")
    if not _exists(source):
        raise ConfigError(f"{source}: no such database file; give the hub's SQLite file as SOURCE")
    found = asyncio.run(_copy(source, target))
    _report(found)
    if not all(count.agrees for count in found):
        raise typer.Exit(1)


def _exists(database: str) -> bool:
    from expediter.storage import is_postgres

    return is_postgres(database) or Path(database.removeprefix("sqlite:///")).is_file()


async def _copy(source: str, target: str) -> list[TableCount]:
    from_storage, to_storage = open_storage(source), open_storage(target)
    await from_storage.start()
    try:
        await to_storage.start()
        try:
            totals = await from_storage.read(counts)
            with Progress(
                TextColumn("{task.description:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            ) as bar:
                tasks = {t: bar.add_task(t, total=n) for t, n in totals.items()}

                def advance(table: str, rows: int) -> None:
                    bar.advance(tasks[table], rows)

                found = await copy_database(from_storage, to_storage, advance)
                for task in tasks.values():
                    bar.update(task, completed=bar.tasks[task].total)
            return found
        finally:
            await to_storage.stop()
    finally:
        await from_storage.stop()


def _report(found: list[TableCount]) -> None:
    table = Table("table", "source rows", "target rows", "")
    for count in found:
        table.add_row(
            count.table, str(count.source), str(count.target), "ok" if count.agrees else "DIFFERENT"
        )
    Console().print(table)
    wrong = [c.table for c in found if not c.agrees]
    if wrong:
        typer.echo(
            f"the row counts differ in {', '.join(wrong)}: was the hub still running on the source?"
            " Stop it and run the same command again",
            err=True,
        )
    else:
        typer.echo(f"copied: {sum(c.source for c in found)} rows in {len(found)} tables, every count agrees")


@db_app.command("backup")
def backup(
    output: Annotated[Path, typer.Option("--output", "-o", help="The backup file to write.")],
    database: DatabaseOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Write a consistent backup of the database while the hub runs: SQLite through its online
    backup (a SQLite file); PostgreSQL through pg_dump (custom format, restore with pg_restore)."""
    source = _database(database, catalog)
    how = backup_database(source, output)
    typer.echo(f"{_shown(source)} backed up to {output} ({how})")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
