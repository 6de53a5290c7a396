"""The runnable catalogs in ``examples/`` check clean once their secrets are set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from expediter.catalog.check import check_catalog
from expediter.catalog.load import load_catalog
from expediter.catalog.problems import errors
from expediter.cli import app
from tests.fixtures_path import REPO_ROOT

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*/expediter.toml"))


def env_references(path: Path) -> set[str]:
    return set(re.findall(r'"env:([A-Z0-9_]+)"', path.read_text(encoding="utf-8")))


def test_both_examples_exist() -> None:
    assert {p.parent.name for p in EXAMPLES} >= {"single-restaurant", "group"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_checks_clean(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in env_references(path):
        monkeypatch.setenv(name, f"value-of-{name}")
    catalog = load_catalog(path)
    assert errors(check_catalog(catalog, path.parent, str(path))) == []
    header = path.read_text(encoding="utf-8").split("[hub]")[0]
    for name in env_references(path):
        assert name in header, f"{name} is not listed in the example's header comment"
    result = CliRunner().invoke(app, ["diagram", "-c", str(path), "--format", "svg"])
    assert result.exit_code == 0 and "<svg" in result.output
