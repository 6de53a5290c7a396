"""The catalog pieces the docs show check clean: what a manager copies from a page works."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from expediter.catalog.load import load_catalog
from expediter.catalog.problems import errors
from expediter.check.catalog import check_catalog
from tests.fixtures_path import REPO_ROOT

DOCS = REPO_ROOT / "docs"
AROUND = """
[hub]
database = "hub.db"

[[locations]]
id = "L001"
name = "Main Street"
timezone = "America/New_York"

[[systems]]
id = "pos"
kind = "pos"
connector = "generic_pos"
owner = "Dana"
"""
INVENTORY = """
[[systems]]
id = "inventory"
kind = "inventory"
connector = "csv"
owner = "Chef Andre"
settings = { recipes = "recipes.toml" }
"""


def declared_blocks(page: Path) -> str:
    """The page's TOML examples that declare systems or flows (not its recipe book examples)."""
    blocks = re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    return "\n".join(b for b in blocks if "[[flows]]" in b or "[[systems]]" in b)


@pytest.mark.parametrize("page", ["manual.md", "inventory.md"])
def test_the_count_sheet_flow_of_the_docs_checks_clean(tmp_path: Path, page: str) -> None:
    shown = declared_blocks(DOCS / page)
    assert 'from = "inventory"\nto = "inventory"\ndata = "inventory_counts"' in shown
    systems = "" if 'id = "inventory"' in shown.split("[[flows]]")[0] else INVENTORY
    path = tmp_path / "expediter.toml"
    path.write_text(AROUND + systems + shown, encoding="utf-8")
    shutil.copy(REPO_ROOT / "src" / "expediter" / "demo" / "recipes.toml", tmp_path / "recipes.toml")
    catalog = load_catalog(path)
    assert catalog.flow("count-sheets") is not None
    assert [str(p) for p in errors(check_catalog(catalog, tmp_path, str(path)))] == []
