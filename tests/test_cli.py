"""The ``expediter`` command: version, help on every command, command modules, a real subprocess."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from expediter import __version__
from expediter.cli import app, register_commands
from tests.catalog.helpers import SECRET_ENV, replaced, write_catalog

EXPEDITER = Path(sys.executable).parent / "expediter"


def all_commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        ctx = command.context_class(command, info_name=" ".join(path))  # type: ignore[attr-defined]
        for name in command.list_commands(ctx):  # type: ignore[attr-defined]
            sub = command.get_command(ctx, name)  # type: ignore[attr-defined]
            if sub.hidden:
                continue
            found.append((*path, name))
            if hasattr(sub, "list_commands"):
                walk(sub, (*path, name))

    walk(root, ())
    return found


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"expediter {__version__}"


def test_the_catalog_commands_are_registered() -> None:
    names = {path[0] for path in all_commands()}
    assert {"init", "check", "flows", "diagram"} <= names


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_has_help_text(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    command = typer.main.get_command(app)
    for name in path:
        ctx = command.context_class(command)  # type: ignore[attr-defined]
        command = command.get_command(ctx, name)  # type: ignore[attr-defined]
    assert (command.help or command.short_help or "").strip(), f"`expediter {' '.join(path)}` has no help"


def test_a_command_module_that_does_not_exist_yet_is_skipped() -> None:
    target = typer.Typer()
    assert register_commands(target, ("catalog", "no_such_module_yet")) == ["catalog"]


class _BrokenFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Provides ``expediter.commands.broken_for_test``, whose import needs a module that is missing."""

    NAME = "expediter.commands.broken_for_test"

    def find_spec(
        self, name: str, path: object, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        return importlib.machinery.ModuleSpec(name, self) if name == self.NAME else None

    def exec_module(self, module: ModuleType) -> None:
        exec("import a_dependency_that_is_not_installed", module.__dict__)


def test_other_import_errors_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "meta_path", [_BrokenFinder(), *sys.meta_path])
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_not_installed"):
        register_commands(typer.Typer(), ("broken_for_test",))
    sys.modules.pop(_BrokenFinder.NAME, None)


def test_no_arguments_shows_help() -> None:
    result = CliRunner().invoke(app, [])
    assert "check" in result.output and "diagram" in result.output


def run_expediter(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXPEDITER), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "COLUMNS": "200"},
        timeout=60,
        check=False,
    )


def test_check_as_a_real_process(tmp_path: Path) -> None:
    good = write_catalog(tmp_path, name="good.toml")
    bad = write_catalog(tmp_path, replaced('schedule = "30 4 * * *"', 'schedule = "every night"'), "bad.toml")
    clean = run_expediter("check", str(good), env=SECRET_ENV)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no errors" in clean.stdout
    broken = run_expediter("check", str(bad), env=SECRET_ENV)
    assert broken.returncode == 1
    assert "$.flows[0].schedule" in broken.stdout
    assert "'every night' is not a valid cron expression" in broken.stdout
    assert "fix: write five fields" in broken.stdout


def test_the_catalog_from_the_environment(tmp_path: Path) -> None:
    path = write_catalog(tmp_path)
    result = CliRunner().invoke(app, ["flows"], env={"EXPEDITER_CATALOG": str(path)})
    assert result.exit_code == 0, result.output
    assert "sales" in result.output


CATALOG_FREE = {("demo",), ("simulate",), ("x12", "read")}
"""Commands that read no catalog: the demo writes its own, the simulator posts to a URL, an X12
file is read as it is."""


def command_at(path: tuple[str, ...]) -> Any:
    command = typer.main.get_command(app)
    for name in path:
        command = command.get_command(command.context_class(command), name)  # type: ignore[attr-defined]
    return command


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_names_the_catalog_one_way(path: tuple[str, ...]) -> None:
    command = command_at(path)
    if hasattr(command, "list_commands"):
        return
    params = command.get_params(command.context_class(command))
    names = {name for param in params for name in param.opts}
    assert "--config" not in names
    catalog = [param for param in params if "--catalog" in param.opts]
    if path in CATALOG_FREE:
        assert not catalog
        return
    [option] = catalog
    assert option.opts == ["--catalog", "-c"]
    assert option.help == "The catalog file (default: $EXPEDITER_CATALOG, else ./expediter.toml)."


@pytest.mark.parametrize("command", ["check", "serve"])
def test_check_and_serve_refuse_two_different_catalogs(tmp_path: Path, command: str) -> None:
    one, other = write_catalog(tmp_path, name="one.toml"), write_catalog(tmp_path, name="other.toml")
    result = CliRunner().invoke(app, [command, str(one), "--catalog", str(other)], env=SECRET_ENV)
    assert result.exit_code == 2
    assert "two catalogs named" in result.output


def test_the_option_and_the_argument_name_the_same_catalog(tmp_path: Path) -> None:
    path = write_catalog(tmp_path)
    by_argument = CliRunner().invoke(app, ["check", str(path)], env=SECRET_ENV)
    by_option = CliRunner().invoke(app, ["check", "-c", str(path)], env=SECRET_ENV)
    both = CliRunner().invoke(app, ["check", str(path), "--catalog", str(path)], env=SECRET_ENV)
    assert by_argument.exit_code == by_option.exit_code == both.exit_code == 0, by_option.output
    assert by_argument.output == by_option.output == both.output


def test_init_writes_where_the_catalog_is_named(tmp_path: Path) -> None:
    target = tmp_path / "site" / "bistro.toml"
    written = CliRunner().invoke(app, ["init", "-c", str(target)])
    assert written.exit_code == 0, written.output
    assert target.exists()
    assert f"expediter check {target}" in written.output.replace("\n", "")
    from_env = CliRunner().invoke(app, ["init"], env={"EXPEDITER_CATALOG": str(target)})
    assert from_env.exit_code == 1
    assert "already exists" in from_env.output
