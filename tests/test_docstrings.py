"""Docstrings name only what exists: a Sphinx-style reference (``:func:`name```, ``:class:``,
``:meth:``, ``:attr:``, ``:data:``, ``:mod:``) to our own code must resolve to a name defined in
``src/expediter``, so a renamed or removed call path cannot linger in the text that describes it."""

from __future__ import annotations

import ast
import importlib
import re

from tests.fixtures_path import REPO_ROOT

SOURCE = REPO_ROOT / "src" / "expediter"
ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc):`~?(?P<ref>[A-Za-z_][\w.]*)`")
OUTSIDE = {"time", "decimal", "random", "asyncio", "msgspec", "starlette", "structlog", "uvicorn", "gc"}
"""References to the standard library and to libraries, which this test does not hold."""


def defined_names() -> set[str]:
    """Every name our code defines or binds: functions, classes, attributes, variables, arguments."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.add(node.name)
            elif isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, ast.arg):
                found.add(node.arg)
    return found


def resolves(ref: str, names: set[str]) -> bool:
    parts = ref.split(".")
    if parts[0] in OUTSIDE:
        return True
    if parts[0] != "expediter":
        return parts[-1] in names
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            if not hasattr(found, part):
                return False
            found = getattr(found, part)
        return True
    return False


def test_every_reference_in_a_docstring_names_something_that_exists() -> None:
    names = defined_names()
    stale = []
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in ROLE.finditer(text):
            if not resolves(match["ref"], names):
                line = text[: match.start()].count("\n") + 1
                stale.append(f"{path.relative_to(REPO_ROOT)}:{line}: {match.group(0)}")
    assert not stale, "docstrings name what no longer exists:\n" + "\n".join(stale)


def test_a_reference_to_a_removed_name_is_caught() -> None:
    names = defined_names()
    assert resolves("expediter.web.app.create_app", names)
    assert not resolves("expediter.web.app.no_such_factory", names)
    assert not resolves("asgi_of_an_older_design", names)
