"""The runnable catalogs in ``examples/`` check clean once their secrets are set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from expediter.catalog.load import load_catalog
from expediter.catalog.problems import errors
from expediter.check.catalog import check_catalog
from expediter.cli import app
from tests.catalog.test_starter import complete_the_catalog
from tests.fixtures_path import REPO_ROOT

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*/expediter.toml"))


def env_references(path: Path) -> set[str]:
    return set(re.findall(r'"env:([A-Z0-9_]+)"', path.read_text(encoding="utf-8")))


def test_both_examples_exist() -> None:
    assert {p.parent.name for p in EXAMPLES} >= {"single-restaurant", "group"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_checks_clean(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in env_references(path):
        monkeypatch.setenv(name, f"value-of-{name}")
    left = errors(check_catalog(load_catalog(path), path.parent, str(path)))
    assert {p.where.rsplit(".", 1)[-1] for p in left} == {"host_key", "recipes"}  # named by check
    copy = tmp_path / path.name
    copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    complete_the_catalog(copy)
    catalog = load_catalog(copy)
    assert errors(check_catalog(catalog, tmp_path, str(copy))) == []
    header = path.read_text(encoding="utf-8").split("[hub]")[0]
    for name in env_references(path):
        assert name in header, f"{name} is not listed in the example's header comment"
    result = CliRunner().invoke(app, ["diagram", "-c", str(path), "--format", "svg"])
    assert result.exit_code == 0 and "<svg" in result.output


def test_docs_hold_the_diagram_of_the_single_restaurant_example(tmp_path: Path) -> None:
    """docs/flows.svg and docs/flows.mmd are the example's diagram, regenerated and compared:
    `expediter diagram -c examples/single-restaurant/expediter.toml --format svg -o docs/flows.svg`."""
    example = REPO_ROOT / "examples" / "single-restaurant" / "expediter.toml"
    for fmt, name in (("svg", "flows.svg"), ("mermaid", "flows.mmd")):
        out = tmp_path / name
        result = CliRunner().invoke(app, ["diagram", "-c", str(example), "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert (REPO_ROOT / "docs" / name).read_text(encoding="utf-8") == out.read_text(encoding="utf-8")
    svg = (REPO_ROOT / "docs" / "flows.svg").read_text(encoding="utf-8")
    for kind in ("pos", "kds", "payroll", "vendor", "accounting"):
        assert f'class="system kind-{kind}"' in svg, kind
