"""``expediter init`` writes the starter catalog; with its secrets set it checks clean."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from expediter.catalog.load import load_catalog
from expediter.catalog.problems import errors
from expediter.catalog.schema import Level, SystemKind
from expediter.check.catalog import check_catalog
from expediter.cli import app
from expediter.commands.catalog import STARTER_SECRETS
from tests.catalog.helpers import SERVER_KEY
from tests.fixtures_path import REPO_ROOT

REALTIME = {
    ("pos", "kds", "orders"),
    ("online", "pos", "orders"),
    ("online", "kds", "orders"),
    ("kds", "pos", "ticket_status"),
    ("kds", "online", "ticket_status"),
    ("kds", "online", "availability"),
}
FILE = {
    ("pos", "back_office", "sales_summary"),
    ("pos", "back_office", "product_mix"),
    ("pos", "back_office", "labor"),
    ("pos", "accounting", "journal"),
    ("pos", "payroll", "payroll"),
    ("pos", "inventory", "inventory_usage"),
    ("inventory", "vendor", "purchase_order"),
    ("vendor", "inventory", "invoice"),
    ("vendor", "accounting", "ap_bill"),
}


def complete_the_catalog(path: Path) -> None:
    """What a manager does after ``init``: paste each SFTP server's host key (from ssh-keyscan)
    and write the recipe book the inventory systems read."""
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r'host_key = "[^"]*"', f'host_key = "{SERVER_KEY}"', text), encoding="utf-8")
    shutil.copy(REPO_ROOT / "src" / "expediter" / "demo" / "recipes.toml", path.parent / "recipes.toml")


@pytest.fixture
def starter_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in STARTER_SECRETS:
        monkeypatch.setenv(name, f"value-of-{name}")


@pytest.mark.usefixtures("starter_secrets")
def test_the_starter_checks_clean_once_its_host_keys_and_recipe_book_are_in_place(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "bistro")])
    assert result.exit_code == 0, result.output
    assert "ssh-keyscan" in result.output and "recipes.toml" in result.output
    path = tmp_path / "bistro" / "expediter.toml"
    complete_the_catalog(path)
    catalog = load_catalog(path)
    assert errors(check_catalog(catalog, path.parent, str(path))) == []
    checked = CliRunner().invoke(app, ["check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "no errors" in checked.output


@pytest.mark.usefixtures("starter_secrets")
def test_check_names_what_the_starter_leaves_to_fill_in(tmp_path: Path) -> None:
    CliRunner().invoke(app, ["init", str(tmp_path)])
    path = tmp_path / "expediter.toml"
    problems = errors(check_catalog(load_catalog(path), tmp_path, str(path)))
    assert sorted((p.subject, p.where.rsplit(".", 1)[-1]) for p in problems) == [
        ("system back_office", "host_key"),
        ("system inventory", "recipes"),
        ("system vendor", "host_key"),
    ]
    assert all("ssh-keyscan -t ed25519" in p.fix for p in problems if p.where.endswith("host_key"))


def test_the_starter_ships_no_enabled_flow_that_nothing_reads(tmp_path: Path) -> None:
    CliRunner().invoke(app, ["init", str(tmp_path)])
    catalog = load_catalog(tmp_path / "expediter.toml")
    invoices = catalog.flow("vendor_invoices_to_inventory")
    assert invoices is not None and invoices.format == "x12-810" and invoices.enabled  # x12 reads it
    assert not [p for p in check_catalog(catalog, tmp_path) if "nothing reads" in p.message]
    unread = msgspec.structs.replace(invoices, data="payroll")  # a kind no connector brings in
    catalog.flows = [unread if f.id == unread.id else f for f in catalog.flows]
    [problem] = [p for p in check_catalog(catalog, tmp_path) if "nothing reads" in p.message]
    assert problem.subject == "flow vendor_invoices_to_inventory" and problem.where.endswith(".data")
    assert "enabled = false" in problem.fix


def test_the_starter_covers_every_system_and_flow(tmp_path: Path) -> None:
    CliRunner().invoke(app, ["init", str(tmp_path)])
    catalog = load_catalog(tmp_path / "expediter.toml")
    kinds = {s.kind for s in catalog.systems}
    assert kinds >= set(SystemKind) - {SystemKind.PRINTER}
    assert catalog.system("pos") is not None and catalog.system("pos").connector in {"square", "generic_pos"}
    moves = {(f.from_, f.to, f.data): f for f in catalog.flows}
    assert {k for k, f in moves.items() if f.level == Level.REALTIME} == REALTIME
    assert {k for k, f in moves.items() if f.level == Level.FILE} == FILE
    for flow in catalog.flows:
        assert flow.owner and flow.description and flow.impact, flow.id


def test_the_starter_without_its_secrets_names_each_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in STARTER_SECRETS:
        monkeypatch.delenv(name, raising=False)
    CliRunner().invoke(app, ["init", str(tmp_path)])
    result = CliRunner().invoke(app, ["check", str(tmp_path / "expediter.toml")])
    assert result.exit_code == 1
    for name in STARTER_SECRETS:
        assert name in result.output


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "expediter.toml"
    target.write_text("# mine\n")
    refused = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert refused.exit_code == 1
    assert "already exists" in refused.output
    assert target.read_text() == "# mine\n"
    forced = CliRunner().invoke(app, ["init", str(tmp_path), "--force"])
    assert forced.exit_code == 0
    assert "[[flows]]" in target.read_text()
