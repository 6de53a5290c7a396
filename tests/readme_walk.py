"""README.md's commands for a restaurant, run in order in an empty folder, as a user types them.

``python -m tests.readme_walk FOLDER`` runs every command line of the README's "Running it for a
restaurant" block in ``FOLDER`` and prints one JSON object per command: its arguments, exit code
and output. ``serve`` runs until ``/healthz`` answers, then gets SIGTERM. tests/test_readme.py runs
this inside a network namespace of its own (only loopback), so the starter catalog's example hosts
are never contacted and port 8080 is the namespace's own.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from expediter.commands.catalog import STARTER_SECRETS
from tests.catalog.test_starter import complete_the_catalog
from tests.fixtures_path import REPO_ROOT
from tests.processes import wait_healthy

EXPEDITER = Path(sys.executable).parent / "expediter"
SECTION = "## Running it for a restaurant"
STOP_SECONDS = 30


def readme_commands(readme: Path = REPO_ROOT / "README.md") -> list[list[str]]:
    """The argument lists of the ``expediter`` lines of the section's first shell block."""
    text = readme.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None, f"README.md: no ```sh block under {SECTION!r}"
    found = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0].endswith("/expediter"):
            found.append(words[1:])
    return found


def environment() -> dict[str, str]:
    """The starter catalog's secrets set (as `init` tells the user to), a wide page for tables."""
    secrets = {name: f"example-{name.lower()}" for name in STARTER_SECRETS}
    return {**os.environ, **secrets, "COLUMNS": "200"}


def run_one(args: list[str], folder: Path) -> dict[str, object]:
    done = subprocess.run(
        [str(EXPEDITER), *args], cwd=folder, env=environment(), capture_output=True, text=True, timeout=120
    )
    return {"args": args, "returncode": done.returncode, "output": done.stdout + done.stderr}


def run_server(args: list[str], folder: Path) -> dict[str, object]:
    """Until the hub answers on the starter catalog's own address, then a SIGTERM."""
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(EXPEDITER), *args], cwd=folder, env=environment(), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_healthy("http://127.0.0.1:8080", process)
            healthy = True
        except AssertionError:
            healthy = False
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
    output = log.read_text(encoding="utf-8", errors="replace")
    return {"args": args, "returncode": code, "healthy": healthy, "output": output}


def main(folder: Path) -> None:
    for args in readme_commands():
        result = run_server(args, folder) if args[:1] == ["serve"] else run_one(args, folder)
        print(json.dumps(result), flush=True)
        if args[:1] == ["init"]:
            complete_the_catalog(folder / "expediter.toml")  # what the README's next line says


if __name__ == "__main__":
    main(Path(sys.argv[1]))
