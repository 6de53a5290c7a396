"""Docs are checked: the CLI reference is regenerated and compared, every catalog key and connector
is documented, and the monitoring page names every alert kind and health."""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import msgspec
import pytest

from expediter.catalog.schema import (
    AlertChannel,
    AlertRoute,
    ApiToken,
    Catalog,
    Flow,
    Hub,
    Mappings,
    System,
)
from expediter.cli import app, cli_reference
from expediter.model.location import Location
from expediter.monitor.alerts import AlertKind
from expediter.monitor.health import Health
from tests.fixtures_path import REPO_ROOT
from tests.test_cli import all_commands

DOCS = REPO_ROOT / "docs"
SECTIONS: dict[str, type[msgspec.Struct]] = {
    "Top level": Catalog,
    "`[hub]`": Hub,
    "`[[locations]]`": Location,
    "`[[systems]]`": System,
    "`[[flows]]`": Flow,
    "`[[api_tokens]]`": ApiToken,
    "`[[alert_channels]]`": AlertChannel,
    "`[[alert_routes]]`": AlertRoute,
    "`[mappings]`": Mappings,
}


def test_cli_reference_is_up_to_date() -> None:
    written = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert written == cli_reference(app), "regenerate it: expediter docs cli -o docs/cli.md"


def test_make_docs_regenerates_the_cli_reference(tmp_path: Path) -> None:
    printed = subprocess.run(["make", "-s", "-n", "docs"], cwd=REPO_ROOT, capture_output=True, text=True)
    [command] = [line for line in printed.stdout.splitlines() if "docs/cli.md" in line]
    target = tmp_path / "cli.md"
    subprocess.run(shlex.split(command.replace("docs/cli.md", str(target))), cwd=REPO_ROOT, check=True)
    assert target.read_text(encoding="utf-8") == (DOCS / "cli.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_is_in_the_cli_reference(path: tuple[str, ...]) -> None:
    assert f"`expediter {' '.join(path)}`" in (DOCS / "cli.md").read_text(encoding="utf-8")


def catalog_sections() -> dict[str, str]:
    text = (DOCS / "catalog.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.mark.parametrize(("heading", "struct"), SECTIONS.items(), ids=list(SECTIONS))
def test_every_config_key_is_documented(heading: str, struct: type[msgspec.Struct]) -> None:
    sections = catalog_sections()
    assert heading in sections, f"docs/catalog.md has no section '## {heading}'"
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    missing = [f.encode_name for f in info.fields if f"`{f.encode_name}`" not in sections[heading]]
    assert not missing, f"undocumented keys in {heading}: {missing}"


def connector_names() -> list[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return sorted(project["project"]["entry-points"]["expediter.connectors"])


@pytest.mark.parametrize("name", connector_names())
def test_every_connector_has_a_page(name: str) -> None:
    page = DOCS / "connectors" / f"{name}.md"
    assert page.exists(), f"write docs/connectors/{name}.md"
    assert page.read_text(encoding="utf-8").startswith("# ")


def test_monitoring_names_every_alert_kind_and_health() -> None:
    text = (DOCS / "monitoring.md").read_text(encoding="utf-8")
    for word in [*AlertKind, *Health]:
        assert f"`{word}`" in text, word
