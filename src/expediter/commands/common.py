"""What every command shares: how the catalog is named, ``--json`` on listings, opening the hub.

Every command that reads a catalog takes ``--catalog/-c PATH``; without it, ``$EXPEDITER_CATALOG``,
else ``./expediter.toml``. ``check`` and ``serve`` also take the catalog as their argument
(``expediter check site.toml``). A listing command with ``--json`` prints one JSON array of
objects (the field names are those of :mod:`expediter.commands.listings`), nothing else.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import typer

from expediter.engine.hub import Hub

T = TypeVar("T")

CATALOG_ENV = "EXPEDITER_CATALOG"
"""The catalog file when no ``--catalog`` is given."""
OLD_CATALOG_ENV = "EXPEDITER_CONFIG"
"""The variable's earlier name, still read when ``EXPEDITER_CATALOG`` is not set."""
DEFAULT_CATALOG = Path("expediter.toml")

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        "-c",
        metavar="PATH",
        help="The catalog file (default: $EXPEDITER_CATALOG, else ./expediter.toml).",
        show_default=False,
    ),
]
CatalogArgument = Annotated[
    Path | None,
    typer.Argument(
        metavar="[CATALOG]",
        help="The catalog file, the same as --catalog.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print a JSON array of objects (stable field names) instead of a table."),
]


def catalog_from_environment() -> Path:
    named = os.environ.get(CATALOG_ENV) or os.environ.get(OLD_CATALOG_ENV)
    return Path(named) if named else DEFAULT_CATALOG


def catalog_path(option: Path | None, argument: Path | None = None) -> Path:
    """The catalog a command reads: the argument or ``--catalog`` (not two different files),
    else the environment's, else ``./expediter.toml``."""
    if argument is not None and option is not None and argument != option:
        raise typer.BadParameter(
            f"two catalogs named ({argument} and {option}); give one, as the argument or with --catalog",
            param_hint="--catalog",
        )
    chosen = argument if argument is not None else option
    return chosen if chosen is not None else catalog_from_environment()


def with_hub(catalog: Path, work: Callable[[Hub], Awaitable[T]]) -> T:
    """Open the catalog's database (no delivery worker), run ``work``, close."""
    from expediter.web.app import read_catalog

    async def main() -> T:
        async with Hub(read_catalog(catalog), deliver=False) as hub:
            return await work(hub)

    return asyncio.run(main())


_encoder = msgspec.json.Encoder()


def print_json(rows: Sequence[Any]) -> None:
    """One JSON array on standard output, one object per line inside it (greppable, and
    ``json.load`` or ``jq`` read it whole)."""
    if not rows:
        sys.stdout.write("[]\n")
        return
    lines = ",\n".join(_encoder.encode(row).decode() for row in rows)
    sys.stdout.write(f"[\n{lines}\n]\n")
