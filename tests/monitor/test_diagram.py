from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from expediter.catalog.load import load_catalog
from expediter.cli import app
from expediter.commands.catalog import starter_text
from expediter.monitor.diagram import dot, mermaid
from expediter.monitor.health import Health
from expediter.monitor.svg import column_of_systems, render_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    path = tmp_path / "expediter.toml"
    path.write_text(starter_text())
    return path


def groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if kind in (g.get("class") or "").split()]


def test_svg_has_a_node_per_system_and_an_edge_per_flow(starter: Path) -> None:
    catalog = load_catalog(starter)
    root = ET.fromstring(render_svg(catalog))
    assert sorted(g.get("data-system") for g in groups(root, "system")) == sorted(
        s.id for s in catalog.systems
    )
    assert sorted(g.get("data-flow") for g in groups(root, "flow")) == sorted(f.id for f in catalog.flows)


def test_svg_puts_the_pos_in_the_centre_and_columns_by_direction(starter: Path) -> None:
    columns = column_of_systems(load_catalog(starter))
    assert columns["pos"] == 0
    assert columns["online"] < 0  # feeds the POS
    assert all(columns[s] > 0 for s in ("kds", "back_office", "accounting", "payroll", "inventory"))
    assert columns["vendor"] > columns["inventory"]


def test_svg_edges_are_styled_by_health(starter: Path) -> None:
    catalog = load_catalog(starter)
    health = {"pos_orders_to_kds": Health.FAILING, "journal_to_accounting": Health.LATE}
    root = ET.fromstring(render_svg(catalog, health))
    by_flow = {g.get("data-flow"): g for g in groups(root, "flow")}
    assert "health-failing" in by_flow["pos_orders_to_kds"].get("class", "")
    assert "health-late" in by_flow["journal_to_accounting"].get("class", "")
    assert "health-unknown" in by_flow["payroll_to_payroll"].get("class", "")
    path = by_flow["pos_orders_to_kds"].find(f"{SVG}path")
    assert path is not None and path.get("stroke") == "#c62828"


def test_svg_escapes_names(tmp_path: Path) -> None:
    text = starter_text().replace('owner = "Dana (general manager)"', 'owner = "Dana <GM> & co"', 1)
    path = tmp_path / "expediter.toml"
    path.write_text(text)
    ET.fromstring(render_svg(load_catalog(path)))  # parses: & and < are escaped


def test_mermaid_has_subgraphs_edges_and_link_styles(starter: Path) -> None:
    catalog = load_catalog(starter)
    text = mermaid(catalog, {"pos_orders_to_kds": Health.HEALTHY})
    assert text.startswith("flowchart LR")
    assert text.count("subgraph") == len({s.kind for s in catalog.systems})
    assert 's_pos ==>|"orders · realtime · healthy"| s_kds' in text
    assert text.count("linkStyle") == len(catalog.flows)


def test_dot_has_clusters_and_an_edge_per_flow(starter: Path) -> None:
    catalog = load_catalog(starter)
    text = dot(catalog)
    assert text.startswith("digraph expediter {")
    assert text.count(" -> ") == len(catalog.flows)
    assert "subgraph cluster_" in text
    assert 's_inventory -> s_vendor [label="purchase_order · file"' in text


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "svg"])
def test_diagram_command_writes_each_format(starter: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"flows.{fmt}"
    result = CliRunner().invoke(app, ["diagram", "-c", str(starter), "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "pos" in text
    if fmt == "svg":
        ET.fromstring(text)


def test_diagram_command_prints_to_stdout(starter: Path) -> None:
    result = CliRunner().invoke(app, ["diagram", "-c", str(starter)])
    assert result.exit_code == 0
    assert result.output.startswith("flowchart LR")


def test_diagram_rejects_an_unknown_format(starter: Path) -> None:
    result = CliRunner().invoke(app, ["diagram", "-c", str(starter), "--format", "png"])
    assert result.exit_code == 2
