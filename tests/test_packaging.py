"""The wheel `pip wheel .` builds holds every file of the package, and the code finds them in it.

`expediter demo` reads its catalog and recipe book from the package, the hub its templates and
screen assets, `expediter init` the starter catalog: a wheel without them installs and then fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "expediter"

_LOADS_THE_DATA = """
import sys
from importlib import resources
from pathlib import Path

import expediter
from expediter.commands.catalog import starter_text
from expediter.demo.run import recipes_path

assert Path(expediter.__file__).is_relative_to(sys.argv[1]), expediter.__file__
folder = Path(sys.argv[2])
assert "[[flows]]" in resources.files("expediter.demo").joinpath("catalog.toml").read_text()
assert "[ingredients." in Path(recipes_path(folder)).read_text()
assert "[[systems]]" in starter_text()
web = Path(expediter.__file__).parent / "web"
assert (web / "templates" / "kds.html").is_file() and (web / "static" / "kds.js").is_file()
print("loaded")
"""


def _package_files() -> set[str]:
    """Every file of the package as the wheel names it (``expediter/demo/catalog.toml``)."""
    return {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _build_wheel(tmp_path: Path) -> Path:
    """``pip wheel`` on a copy of the sources (a build writes into its source tree)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "src" / "expediter", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "wheels"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*command, "--quiet", "-w", str(out), str(source)], check=True)
    [wheel] = out.glob("expediter-*.whl")
    return wheel


@pytest.mark.slow
def test_the_wheel_holds_every_file_of_the_package_and_the_code_loads_them(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        inside = {name for name in archive.namelist() if name.startswith("expediter/")}
        missing = _package_files() - inside
        assert not missing, f"the wheel lacks {sorted(missing)}: add them to package-data in pyproject.toml"
        installed = tmp_path / "installed"
        archive.extractall(installed)
    demo = tmp_path / "demo"
    demo.mkdir()
    loaded = subprocess.run(
        [sys.executable, "-c", _LOADS_THE_DATA, str(installed), str(demo)],
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "loaded"
