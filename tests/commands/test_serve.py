"""``expediter serve`` starts only what ``expediter check`` passes, and says why with its words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from expediter.sim.ports import free_port
from tests.catalog.helpers import SECRET_ENV, replaced, write_catalog

TYPO = (
    'from = "pos"\nto = "back_office"\ndata = "orders"',
    'from = "poss"\nto = "back_office"\ndata = "orders"',
)


def expediter(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from expediter.cli import main; main()", *args]
    environment = {**os.environ, **env, "COLUMNS": "200"}
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60, check=False)


def problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("✗", "!", "    "))]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        pytest.param(TYPO, "$.flows[1].from", id="typo-in-a-flow's-system"),
        pytest.param(
            ('schedule = "30 4 * * *"', 'schedule = "30 4 * * * *"'), "$.flows[0].schedule", id="cron"
        ),
        pytest.param(('kind = "pos"', 'kind = "till"'), "$.systems[0].kind", id="schema"),
    ],
)
def test_serve_refuses_what_check_refuses_with_the_same_problems(
    tmp_path: Path, change: tuple[str, str], where: str
) -> None:
    path = write_catalog(tmp_path, replaced(*change))
    checked = expediter("check", str(path), env=SECRET_ENV)
    port = free_port()
    served = expediter("serve", str(path), "--host", "127.0.0.1", "--port", str(port), env=SECRET_ENV)
    assert checked.returncode == 1 and served.returncode == 1, served.stderr
    assert where in served.stdout
    assert problem_lines(served.stdout) == problem_lines(checked.stdout)
    assert "serving" not in served.stderr  # it never bound the port
    assert not (tmp_path / "hub.db").exists()  # nor opened the database


def test_serve_refuses_a_catalog_whose_secret_is_not_set(tmp_path: Path) -> None:
    path = write_catalog(tmp_path)
    served = expediter("serve", str(path), "--port", str(free_port()), env={"TEST_BO_PASSWORD": ""})
    assert served.returncode == 1
    assert "environment variable TEST_BO_PASSWORD is not set" in served.stdout
