"""``expediter init`` writes the starter catalog; with its secrets set it checks clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from expediter.catalog.check import check_catalog
from expediter.catalog.load import load_catalog
from expediter.catalog.problems import errors
from expediter.catalog.schema import Level, SystemKind
from expediter.cli import app
from expediter.commands.catalog import STARTER_SECRETS

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


@pytest.fixture
def starter_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in STARTER_SECRETS:
        monkeypatch.setenv(name, f"value-of-{name}")


@pytest.mark.usefixtures("starter_secrets")
def test_init_writes_a_catalog_that_checks_clean(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "bistro")])
    assert result.exit_code == 0, result.output
    path = tmp_path / "bistro" / "expediter.toml"
    catalog = load_catalog(path)
    assert errors(check_catalog(catalog, path.parent, str(path))) == []
    checked = CliRunner().invoke(app, ["check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "no errors" in checked.output


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
