"""The lowest versions pyproject.toml declares, as ``name==version`` pins (``make lowest``).

``python -m tests.lowest_versions`` prints one pin per runtime dependency, the lower bound of its
range, so a scratch venv can install exactly those and run a smoke subset of the suite: a range
that claims ``typer>=0.12`` must work with typer 0.12.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_LOWER = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*>=\s*(?P<version>[^,;\s]+)")


def lowest_pins(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    pins = []
    for requirement in project["dependencies"]:
        match = _LOWER.match(requirement)
        if match is None:
            raise SystemExit(f"pyproject.toml: {requirement!r} has no lower bound (>=)")
        pins.append(f"{match['name']}=={match['version']}")
    return pins


if __name__ == "__main__":
    sys.stdout.write("\n".join(lowest_pins()) + "\n")
