"""Imports run one way, down the floors of DESIGN.md section 5; this test reads every import.

From the top floor down (a package may import its own floor and any floor below, never above)::

    6  web, commands, cli, demo          what users run
    5  runtime                           puts a hub together
    4  engine, monitor, check, sim,      the loops, the watching, ``expediter check``; the simulator
       watchers, drill                   (it plays the products, so it may use their connectors;
                                         only demo and commands may use it)
    3  operations | connectors           siblings: they never import each other
    2  plugin, formats, catalog, ledger, the connector contract, file kits, declarations, transfers,
       access, expediter (the package)   people and devices; the package's public surface
    1  storage                           the one storage seam
    0  model, errors, logs               canonical data, the error types, logging

Every import counts: top-level, inside functions, and under ``TYPE_CHECKING`` (a type named upward
is a dependency upward all the same). Edges that still run against the direction are listed in
:data:`KNOWN_UPWARD`, and the test asserts that list is *exactly* what remains: fixing an edge
means deleting its line, and a new upward import fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src" / "expediter"

FLOORS: dict[str, int] = {
    "model": 0,
    "errors": 0,
    "logs": 0,
    "storage": 1,
    "plugin": 2,
    "formats": 2,
    "catalog": 2,
    "ledger": 2,
    "access": 2,
    "": 2,  # expediter/__init__.py: the public surface re-exports the contract and the model
    "operations": 3,
    "connectors": 3,
    "engine": 4,
    "monitor": 4,
    "check": 4,
    "sim": 4,
    "watchers": 4,
    "drill": 4,
    "edge": 4,  # a restaurant edge's link to its group, over the engine's bus
    "runtime": 5,
    "web": 6,
    "commands": 6,
    "cli": 6,
    "demo": 6,
}

SIBLINGS = frozenset({frozenset({"operations", "connectors"})})
"""Pairs on one floor that must not import each other either."""

SIMULATOR_USERS = frozenset({"sim", "demo", "commands"})
"""The simulator plays the products for the demo and ``expediter simulate``; the hub itself (its
pages included) never needs it."""

KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset(
    {
        # The CSV connector still computes two of its files' figures: the labor file (overtime rules
        # chosen by its own ``overtime_rules``/``workweek_start`` settings, hours by day) and the
        # inventory files (the recipe book its ``recipes`` setting names, the count sheets it reads,
        # usage and variance). The engine should compute them and hand it the results.
        ("expediter.connectors.csv.connector", "expediter.operations.labor.overtime"),
        ("expediter.connectors.csv.connector", "expediter.operations.labor.pay"),
        ("expediter.connectors.csv.connector", "expediter.operations.inventory.counts"),
        ("expediter.connectors.csv.connector", "expediter.operations.inventory.export"),
    }
)
"""(importing module, imported module) pairs that run against the direction today. It only shrinks."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every ``expediter`` module ``path`` imports, wherever the import statement is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # ``from expediter.plugin import registry`` imports the module expediter.plugin.registry
            found.update(f"{target}.{alias.name}" for alias in node.names if _is_module(target, alias.name))
    return {module for module in found if module == "expediter" or module.startswith("expediter.")}


def _is_module(package: str, name: str) -> bool:
    folder = SOURCE.parent.joinpath(*package.split("."))
    return (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file()


def area(module: str) -> str:
    """The top-level package (or module) of ``expediter.x.y``: ``x``; ``""`` for ``expediter``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def import_graph() -> set[tuple[str, str]]:
    return {
        (module_name(path), target)
        for path in sorted(SOURCE.rglob("*.py"))
        for target in imported_modules(path)
        if area(module_name(path)) != area(target)
    }


def upward(edge: tuple[str, str]) -> bool:
    source, target = (area(module) for module in edge)
    if frozenset({source, target}) in SIBLINGS:
        return True
    if target == "sim" and source not in SIMULATOR_USERS:
        return True
    return FLOORS[source] < FLOORS[target]


def test_every_package_has_a_floor() -> None:
    areas = {area(module_name(path)) for path in SOURCE.rglob("*.py")}
    assert areas - FLOORS.keys() == set(), "place the new package in FLOORS (and in DESIGN.md section 5)"
    assert FLOORS.keys() - areas == set(), "a package in FLOORS no longer exists: remove it"


def test_imports_run_down_the_floors() -> None:
    violations = {edge for edge in import_graph() if upward(edge)}
    new = sorted(violations - KNOWN_UPWARD)
    fixed = sorted(KNOWN_UPWARD - violations)
    assert new == [], f"imports against the direction of DESIGN.md section 5: {new}"
    assert fixed == [], f"fixed (delete these from KNOWN_UPWARD): {fixed}"


def test_the_graph_is_read() -> None:
    """The reader finds imports of every kind, so an empty result means clean, not blind."""
    edges = import_graph()
    assert ("expediter.runtime", "expediter.engine.hub") in edges
    assert ("expediter.engine.hub", "expediter.plugin.registry") in edges


def test_the_direction_is_judged() -> None:
    assert upward(("expediter.storage.sqlite", "expediter.engine.hub"))
    assert upward(("expediter.operations.labor.period", "expediter.connectors.csv.connector"))
    assert upward(("expediter.web.dashboard_data", "expediter.sim.printer"))
    assert not upward(("expediter.demo.run", "expediter.sim.printer"))
    assert not upward(("expediter.engine.hub", "expediter.storage.base"))
    assert not upward(("expediter.connectors.csv.connector", "expediter.plugin.base"))
