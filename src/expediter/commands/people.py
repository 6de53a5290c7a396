"""``expediter users``, ``expediter tokens`` and ``expediter audit``: who may sign in to the
dashboard, the API tokens of the catalog, and the record of what everyone did.

Users live in the hub's database (a systems manager adds people without editing the shared
catalog, and no password goes near the catalog); the commands open the database the catalog
names. Passwords are asked for, never taken from the command line (``--password-stdin`` reads
one line from standard input, for scripts). Every change here is in the audit log, made by
``command:<the machine's user name>``.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from expediter.access.audit import AuditAction, AuditEntry, AuditLog
from expediter.access.roles import Role
from expediter.access.users import Users, listing
from expediter.catalog.schema import Catalog
from expediter.catalog.secrets import hash_token, resolve_database
from expediter.commands.common import CatalogOption, catalog_path
from expediter.commands.ledger import parse_since
from expediter.errors import ExpediterError, RejectedInput
from expediter.storage import open_storage
from expediter.storage.base import Storage

T = TypeVar("T")
users_app = typer.Typer(help="The people who sign in to the dashboard: add, list, reset a password, remove.")
tokens_app = typer.Typer(help="API tokens for the systems that post orders, punches and employees.")


def load(config: Path) -> Catalog:
    from expediter.web.app import read_catalog

    if not config.exists():
        raise typer.BadParameter(f"{config} does not exist", param_hint="--catalog")
    return read_catalog(config)


def with_storage(catalog: Catalog, work: Callable[[Storage], Awaitable[T]]) -> T:
    """Open the catalog's database (applying migrations), run ``work``, close."""

    async def main() -> T:
        storage = open_storage(resolve_database(catalog.hub.database))
        await storage.start()
        try:
            return await work(storage)
        finally:
            await storage.stop()

    try:
        return asyncio.run(main())
    except RejectedInput as exc:
        typer.echo(f"error: {exc.message}" + (f"\n  fix: {exc.fix}" if exc.fix else ""), err=True)
        raise typer.Exit(1) from None
    except ExpediterError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


async def record(storage: Storage, action: AuditAction, target: str, detail: str = "") -> None:
    await AuditLog(storage).record_command(action, target, detail)


def ask_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def chosen_locations(catalog: Catalog, locations: list[str], every: bool) -> list[str]:
    """The user's locations, each one of the catalog's; ``[]`` for every location (said so)."""
    if every and locations:
        raise typer.BadParameter("give --location (one or more) or --all-locations, not both")
    if not every and not locations:
        raise typer.BadParameter(
            "say which locations this person sees: --location L1 (repeatable), or --all-locations"
        )
    known = [location.id for location in catalog.locations]
    for location in locations:
        if location not in known:
            raise typer.BadParameter(f"{location!r} is not a location of the catalog ({', '.join(known)})")
    return sorted(set(locations))


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from one line of standard input.")
]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The name to sign in with (letters, digits, . _ @ -).")],
    role: Annotated[Role, typer.Option("--role", help="viewer, operator or admin.")] = Role.VIEWER,
    location: Annotated[
        list[str] | None, typer.Option("--location", help="A location this person sees (repeatable).")
    ] = None,
    all_locations: Annotated[
        bool, typer.Option("--all-locations", help="This person sees every location (a group manager).")
    ] = False,
    password_stdin: PasswordStdin = False,
    catalog_file: CatalogOption = None,
) -> None:
    """Add a person who signs in to the dashboard; asks for their password twice."""
    catalog = load(catalog_path(catalog_file))
    locations = chosen_locations(catalog, location or [], all_locations)
    password = ask_password(password_stdin)

    async def work(storage: Storage) -> None:
        user = await Users(storage).add(name, role, locations, password)
        where = ", ".join(user.locations) or "every location"
        await record(storage, AuditAction.USER_ADDED, user.name, f"{user.role.value}; {where}")

    with_storage(catalog, work)
    typer.echo(f"{name} added: {role.value} at {', '.join(locations) or 'every location'}")


@users_app.command("reset-password")
def users_reset_password(
    name: Annotated[str, typer.Argument(help="Whose password.")],
    password_stdin: PasswordStdin = False,
    catalog_file: CatalogOption = None,
) -> None:
    """Set a new password (asked for twice); the person is signed out everywhere."""
    catalog = load(catalog_path(catalog_file))
    password = ask_password(password_stdin)

    async def work(storage: Storage) -> None:
        await Users(storage).set_password(name, password)
        await record(storage, AuditAction.PASSWORD_RESET, name, "signed out everywhere")

    with_storage(catalog, work)
    typer.echo(f"{name}: new password set; every session of {name} has ended")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="Who.")],
    catalog_file: CatalogOption = None,
) -> None:
    """Remove a person: they are signed out and cannot sign in again (the audit log keeps their actions)."""
    catalog = load(catalog_path(catalog_file))

    async def work(storage: Storage) -> None:
        user = await Users(storage).remove(name)
        await record(storage, AuditAction.USER_REMOVED, user.name, user.role.value)

    with_storage(catalog, work)
    typer.echo(f"{name} removed")


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    catalog_file: CatalogOption = None,
) -> None:
    """Every person who may sign in: role, locations, when their password was last set."""
    catalog = load(catalog_path(catalog_file))
    found = with_storage(catalog, lambda storage: Users(storage).all())
    if as_json:
        typer.echo(msgspec.json.encode([listing(user) for user in found]).decode())
        return
    table = Table("name", "role", "locations", "password set (UTC)", title=f"{len(found)} users")
    for user in found:
        when = user.password_changed_at.strftime("%Y-%m-%d %H:%M")
        table.add_row(user.name, user.role.value, ", ".join(user.locations) or "every location", when)
    Console().print(table)


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for (e.g. the POS's name).")],
    system: Annotated[
        list[str] | None, typer.Option("--system", help="A system the token may post as (repeatable).")
    ] = None,
    location: Annotated[
        list[str] | None,
        typer.Option("--location", help="A location it may send for (repeatable; none: all)."),
    ] = None,
    catalog_file: CatalogOption = None,
) -> None:
    """Make a new API token: prints the token once (give it to the system) and the lines to add to
    the catalog's api_tokens (only its sha256 goes there)."""
    catalog = load(catalog_path(catalog_file))
    systems, locations = sorted(set(system or [])), sorted(set(location or []))
    for wanted, known, what in (
        (systems, [s.id for s in catalog.systems], "system"),
        (locations, [loc.id for loc in catalog.locations], "location"),
    ):
        unknown = [item for item in wanted if item not in known]
        if unknown:
            raise typer.BadParameter(f"{unknown[0]!r} is not a {what} of the catalog ({', '.join(known)})")
    token = secrets.token_urlsafe(32)
    detail = f"systems {systems or 'any'}; locations {locations or 'every'}"
    with_storage(catalog, lambda storage: record(storage, AuditAction.TOKEN_CREATED, name, detail))
    typer.echo(f"token (shown once; give it to {name}): {token}", err=True)
    typer.echo(catalog_lines(name, hash_token(token), systems, locations))


def catalog_lines(name: str, sha256: str, systems: list[str], locations: list[str]) -> str:
    quoted = lambda items: "[" + ", ".join(f'"{item}"' for item in items) + "]"  # noqa: E731
    lines = ["[[api_tokens]]", f'name = "{name}"', f'sha256 = "{sha256}"', f"systems = {quoted(systems)}"]
    if locations:
        lines.append(f"locations = {quoted(locations)}")
    return "\n".join(lines)


def audit(
    since: Annotated[str | None, typer.Option("--since", help="30m, 6h, 2d, or an ISO date/time.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only what this person (or device) did.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N entries.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    catalog_file: CatalogOption = None,
) -> None:
    """The audit log, newest first: who did what, when, from where, and how it ended."""
    catalog = load(catalog_path(catalog_file))
    start = parse_since(since) if since else None
    found: list[AuditEntry] = with_storage(
        catalog, lambda storage: AuditLog(storage).entries(since=start, actor=user, limit=limit)
    )
    if as_json:
        typer.echo(msgspec.json.encode(found).decode())
        return
    table = Table(
        "when (UTC)", "who", "action", "outcome", "what", "location", "from", title=f"{len(found)} entries"
    )
    for entry in found:
        what = " ".join(part for part in (entry.target, entry.detail) if part)
        table.add_row(
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.actor,
            entry.action.value,
            entry.outcome.value,
            what[:100],
            entry.location_id or "",
            entry.address,
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    app.command("audit")(audit)
