"""``expediter users``, ``expediter tokens`` and ``expediter audit`` on a catalog and database on disk."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from expediter.access.sessions import Sessions
from expediter.access.users import Users
from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.catalog.schema import Hub as HubSettings
from expediter.cli import app
from expediter.model.location import Location
from expediter.storage import open_storage

PASSWORD = "correct horse battery"
WIDE = {"COLUMNS": "200"}


def write_catalog(tmp_path: Path) -> Path:
    import msgspec

    catalog = Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db")),
        locations=[
            Location(id="L1", name="Downtown", timezone="America/New_York"),
            Location(id="L2", name="Harbor", timezone="America/Los_Angeles"),
        ],
        systems=[System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops")],
    )
    path = tmp_path / "expediter.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def cli(config: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "-c", str(config)], input=input, env=WIDE)
    return result.exit_code, result.stdout, result.stderr


def stored_hash(tmp_path: Path, name: str) -> str:
    async def read() -> str:
        storage = open_storage(tmp_path / "hub.db")
        await storage.start()
        try:
            sql = "SELECT password_hash FROM users WHERE name = ?"
            row = await storage.read(lambda tx: tx.one(sql, (name,)))
            return str(row[0])
        finally:
            await storage.stop()

    return asyncio.run(read())


def test_add_list_reset_and_remove_users_with_prompted_passwords(tmp_path: Path) -> None:
    config = write_catalog(tmp_path)
    twice = f"{PASSWORD}\n{PASSWORD}\n"
    code, out, _ = cli(config, "users", "add", "ana", "--role", "operator", "--location", "L1", input=twice)
    assert code == 0 and "ana added: operator at L1" in out
    assert PASSWORD not in out  # the prompt hides what is typed
    code, _, _ = cli(config, "users", "add", "gm", "--role", "admin", "--all-locations", input=twice)
    assert code == 0
    hashed = stored_hash(tmp_path, "ana")
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed

    code, out, _ = cli(config, "users", "list", "--json")
    listed = json.loads(out)
    assert [(u["name"], u["role"], u["locations"], u["all_locations"]) for u in listed] == [
        ("ana", "operator", ["L1"], False),
        ("gm", "admin", [], True),
    ]
    assert "hash" not in out and "argon2" not in out

    async def session_for_ana() -> int:
        storage = open_storage(tmp_path / "hub.db")
        await storage.start()
        try:
            user = await Users(storage).get("ana")
            assert user is not None
            await Sessions(storage).start(user, "127.0.0.1")
            row = await storage.read(lambda tx: tx.one("SELECT COUNT(*) FROM sessions"))
            return int(row[0])
        finally:
            await storage.stop()

    assert asyncio.run(session_for_ana()) == 1
    new = "another long password"
    code, out, _ = cli(config, "users", "reset-password", "ana", "--password-stdin", input=f"{new}\n")
    assert code == 0 and "every session of ana has ended" in out
    assert stored_hash(tmp_path, "ana") != hashed
    code, out, _ = cli(config, "users", "remove", "ana")
    assert code == 0 and [u["name"] for u in json.loads(cli(config, "users", "list", "--json")[1])] == ["gm"]

    code, out, _ = cli(config, "audit", "--json")
    actions = [(e["actor_kind"], e["action"], e["target"]) for e in reversed(json.loads(out))]
    assert [a[1:] for a in actions] == [
        ("user_added", "ana"),
        ("user_added", "gm"),
        ("password_reset", "ana"),
        ("user_removed", "ana"),
    ]
    assert {a[0] for a in actions} == {"command"}
    code, out, _ = cli(config, "audit", "--since", "1h")
    assert code == 0 and "user_removed" in out


def test_users_add_refuses_what_a_manager_would_get_wrong(tmp_path: Path) -> None:
    config = write_catalog(tmp_path)
    twice = f"{PASSWORD}\n{PASSWORD}\n"
    code, _, err = cli(config, "users", "add", "ana", "--role", "operator", input=twice)
    assert code == 2 and "--location L1 (repeatable), or --all-locations" in err
    code, _, err = cli(config, "users", "add", "ana", "--location", "L9", input=twice)
    assert code == 2 and "'L9' is not a location of the catalog (L1, L2)" in err
    code, _, err = cli(config, "users", "add", "ana", "--all-locations", "--password-stdin", input="short\n")
    assert code == 1 and "needs at least 10" in err
    cli(config, "users", "add", "ana", "--all-locations", input=twice)
    code, _, err = cli(config, "users", "add", "ana", "--all-locations", input=twice)
    assert code == 1 and "there is already a user 'ana'" in err
    code, _, err = cli(config, "users", "remove", "nobody")
    assert code == 1 and "there is no user 'nobody'" in err


def test_tokens_create_prints_the_token_once_and_its_catalog_lines(tmp_path: Path) -> None:
    config = write_catalog(tmp_path)
    code, out, err = cli(config, "tokens", "create", "front-pos", "--system", "pos", "--location", "L2")
    assert code == 0
    token = err.strip().rsplit(" ", 1)[-1]  # said on stderr, so the catalog lines stay clean
    entry = tomllib.loads(out[out.index("[[api_tokens]]") :])["api_tokens"][0]
    assert entry == {
        "name": "front-pos",
        "sha256": "sha256:" + hashlib.sha256(token.encode()).hexdigest(),
        "systems": ["pos"],
        "locations": ["L2"],
    }
    assert token not in out[out.index("[[api_tokens]]") :]  # only its hash goes into the catalog
    code, _, err = cli(config, "tokens", "create", "x", "--system", "till")
    assert code == 2 and "'till' is not a system of the catalog" in err
    audit = json.loads(cli(config, "audit", "--json")[1])
    assert [e["action"] for e in audit] == ["token_created"] and token not in json.dumps(audit)
