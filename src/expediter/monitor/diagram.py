"""The system integration flow diagram as text: Mermaid (for docs and the dashboard) and Graphviz DOT.

Systems are nodes grouped by kind; flows are edges labelled with their data and level and styled by
health. The SVG drawing (no Graphviz needed) is :mod:`expediter.monitor.svg`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from expediter.catalog.schema import Catalog, Flow, Level, SystemKind
from expediter.monitor.health import Health


class DiagramFormat(StrEnum):
    MERMAID = "mermaid"
    DOT = "dot"
    SVG = "svg"


HEALTH_COLOURS: dict[Health | None, str] = {
    Health.HEALTHY: "#2e7d32",
    Health.LATE: "#b26a00",
    Health.FAILING: "#c62828",
    Health.IDLE: "#5c6bc0",
    Health.NEVER_RAN: "#757575",
    None: "#455a64",
}
KIND_TITLES: dict[str, str] = {
    SystemKind.POS: "POS",
    SystemKind.KDS: "Kitchen",
    SystemKind.PRINTER: "Kitchen printers",
    SystemKind.ONLINE_ORDERING: "Online ordering",
    SystemKind.BACK_OFFICE: "Back office",
    SystemKind.ACCOUNTING: "Accounting",
    SystemKind.PAYROLL: "Payroll",
    SystemKind.INVENTORY: "Inventory",
    SystemKind.VENDOR: "Vendors",
}
KIND_ORDER = list(KIND_TITLES)


def edge_label(flow: Flow) -> str:
    return f"{flow.data} · {flow.level}"


def health_word(health: Health | None) -> str:
    return str(health).replace("_", " ") if health else "unknown"


def node_id(system_id: str) -> str:
    """An identifier every renderer accepts (Mermaid and DOT reserve words such as ``end``)."""
    return "s_" + re.sub(r"[^A-Za-z0-9_]", "_", system_id)


def systems_by_kind(catalog: Catalog) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for system in sorted(catalog.systems, key=lambda s: (_kind_rank(s.kind), s.id)):
        groups.setdefault(str(system.kind), []).append(system.id)
    return groups


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def drawable_flows(catalog: Catalog) -> list[Flow]:
    """Flows whose both ends are declared systems (``check`` reports the others)."""
    known = {s.id for s in catalog.systems}
    return [f for f in catalog.flows if f.from_ in known and f.to in known]


def mermaid(catalog: Catalog, health: Mapping[str, Health] | None = None) -> str:
    health = health or {}
    lines = ["flowchart LR"]
    for kind, ids in systems_by_kind(catalog).items():
        lines.append(f'  subgraph {node_id("kind_" + kind)}["{KIND_TITLES.get(kind, kind)}"]')
        for system_id in ids:
            system = catalog.system(system_id)
            connector = system.connector if system else ""
            lines.append(
                f'    {node_id(system_id)}["{_mermaid_text(system_id)}<br/><small>{connector}</small>"]'
            )
        lines.append("  end")
    arrows = {Level.REALTIME: "==>", Level.FILE: "-.->", Level.MANUAL: "-->"}
    styles = []
    for index, flow in enumerate(drawable_flows(catalog)):
        state = health.get(flow.id)
        label = _mermaid_text(f"{edge_label(flow)} · {health_word(state)}" if state else edge_label(flow))
        lines.append(f'  {node_id(flow.from_)} {arrows[flow.level]}|"{label}"| {node_id(flow.to)}')
        styles.append(f"  linkStyle {index} stroke:{HEALTH_COLOURS[state]},color:{HEALTH_COLOURS[state]}")
    return "\n".join(lines + styles) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def dot(catalog: Catalog, health: Mapping[str, Health] | None = None) -> str:
    health = health or {}
    lines = [
        "digraph expediter {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="sans-serif"];',
        '  edge [fontname="sans-serif", fontsize=10];',
    ]
    for kind, ids in systems_by_kind(catalog).items():
        lines.append(f'  subgraph cluster_{node_id(kind)} {{ label="{KIND_TITLES.get(kind, kind)}";')
        for system_id in ids:
            lines.append(f'    {node_id(system_id)} [label="{_dot_text(system_id)}"];')
        lines.append("  }")
    styles = {Level.REALTIME: "bold", Level.FILE: "dashed", Level.MANUAL: "dotted"}
    for flow in drawable_flows(catalog):
        state = health.get(flow.id)
        colour = HEALTH_COLOURS[state]
        label = _dot_text(edge_label(flow) + (f" · {health_word(state)}" if state else ""))
        lines.append(
            f'  {node_id(flow.from_)} -> {node_id(flow.to)} [label="{label}", color="{colour}",'
            f' fontcolor="{colour}", style={styles[flow.level]}, tooltip="{_dot_text(flow.id)}"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
