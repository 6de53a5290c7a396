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
import typer

from expediter.catalog.schema import (
    AlertChannel,
    AlertRoute,
    ApiToken,
    Catalog,
    Edge,
    Flow,
    GroupEdges,
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
    "`[edge]`": Edge,
    "`[group_edges]`": GroupEdges,
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


COMMAND_LINE = re.compile(r"(?:^|[`\s])(?:\.venv/bin/)?expediter ([a-z][\w-]*[^`\n|#&;>]*)")


def documented_command_lines() -> list[tuple[str, list[str]]]:
    """Every ``expediter ...`` the README and docs show (inline or in a block): (page, words)."""
    found = []
    for page in [REPO_ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]:
        if page.name == "cli.md":
            continue
        text = page.read_text(encoding="utf-8").replace("\\\n", " ")
        for match in COMMAND_LINE.finditer(text):
            found.append((str(page.relative_to(REPO_ROOT)), match.group(1).split()))
    return found


def option_names(words: list[str]) -> tuple[str, set[str], list[str]]:
    """The command the words name, the options it has, and the options the words use."""
    command = typer.main.get_command(app)
    path = ["expediter"]
    rest = list(words)
    while rest and hasattr(command, "list_commands"):
        ctx = command.context_class(command, info_name=" ".join(path))
        sub = command.get_command(ctx, rest[0])
        if sub is None:
            break
        command, path = sub, [*path, rest.pop(0)]
    ctx = command.context_class(command, info_name=" ".join(path))
    known = {name for param in command.get_params(ctx) for name in [*param.opts, *param.secondary_opts]}
    used = [word.split("=")[0] for word in rest if word.startswith("-") and len(word) > 1]
    return " ".join(path), known, used


def test_the_docs_show_command_lines() -> None:
    pages = {page for page, _ in documented_command_lines()}
    assert {"README.md", "docs/demo.md", "docs/manual.md"} <= pages


def _line_id(value: object) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)


@pytest.mark.parametrize(("page", "words"), documented_command_lines(), ids=_line_id)
def test_every_option_the_docs_use_exists(page: str, words: list[str]) -> None:
    command, known, used = option_names(words)
    unknown = [word for word in used if word not in known]
    assert not unknown, f"{page}: `{command}` has no option {unknown}; it has {sorted(known)}"


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


def test_make_lowest_pins_the_lower_bound_of_every_dependency() -> None:
    from tests.lowest_versions import lowest_pins

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = lowest_pins()
    assert len(pins) == len(project["dependencies"])
    assert "typer==0.16" in pins and "asyncssh==2.15" in pins
    printed = subprocess.run(["make", "-s", "-n", "lowest"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert "tests.lowest_versions" in printed.stdout and "pytest" in printed.stdout
