"""README.md's commands work as written, against the catalog ``init`` writes, as a user runs them."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_path import REPO_ROOT
from tests.readme_walk import readme_commands

ISOLATED = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "isolated"]
"""A network namespace of its own with only loopback: the starter's example hosts stay unreached."""


def can_isolate() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run([*ISOLATED, "true"], capture_output=True, check=False).returncode == 0


def test_the_readme_names_the_commands_it_shows() -> None:
    names = [args[0] for args in readme_commands()]
    assert names[:2] == ["init", "check"]
    assert {"flows", "serve", "diagram", "run", "transfers", "dead-letters", "replay"} <= set(names)


@pytest.mark.slow
@pytest.mark.service
@pytest.mark.skipif(not can_isolate(), reason="needs unshare --net (root or user namespaces)")
def test_every_readme_command_runs_against_the_starter_catalog(tmp_path: Path) -> None:
    walk = subprocess.run(
        [*ISOLATED, sys.executable, "-m", "tests.readme_walk", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert walk.returncode == 0, walk.stderr
    results = [json.loads(line) for line in walk.stdout.splitlines()]
    assert [r["args"] for r in results] == readme_commands()
    for result in results:
        command = "expediter " + " ".join(result["args"])
        if result["args"][0] == "serve":
            assert result["healthy"], f"{command} never answered /healthz:\n{result['output']}"
            assert result["returncode"] in (0, -signal.SIGTERM), f"{command}:\n{result['output']}"
        else:
            assert result["returncode"] == 0, f"{command} exited {result['returncode']}:\n{result['output']}"
    by_name = {r["args"][0]: r for r in results}
    assert (tmp_path / "expediter.toml").exists() and (tmp_path / "flows.svg").exists()
    assert "no errors" in by_name["check"]["output"]
    assert "journal_to_accounting" in by_name["flows"]["output"]
    assert json.loads(by_name["dead-letters"]["output"]) == []
