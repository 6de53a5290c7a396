"""The flow diagram drawn as SVG by our own small layout: no Graphviz needed where the hub runs.

Layout: the POS (the core of a restaurant's systems) in the centre column; systems that feed it on the
left, systems it feeds on the right, one column further out per hop. Within a column, systems are
grouped by kind. Flows are curves from the side facing their destination; an edge that would cross a
column arches over it. Colour is health, dash is level (realtime solid, file dashed, manual dotted).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind
from expediter.monitor.diagram import (
    HEALTH_COLOURS,
    KIND_ORDER,
    KIND_TITLES,
    drawable_flows,
    edge_label,
    health_word,
)
from expediter.monitor.health import Health

NODE_W, NODE_H = 180, 56
COLUMN_PITCH, ROW_PITCH = 430, 92
MARGIN, TOP = 40, 64
ARCH_STEP = 16
DASHES = {Level.REALTIME: "", Level.FILE: "7 5", Level.MANUAL: "2 4"}
KIND_FILLS: dict[str, str] = {
    SystemKind.POS: "#fff3e0",
    SystemKind.KDS: "#fce4ec",
    SystemKind.PRINTER: "#fce4ec",
    SystemKind.ONLINE_ORDERING: "#e3f2fd",
    SystemKind.BACK_OFFICE: "#e8f5e9",
    SystemKind.ACCOUNTING: "#e8f5e9",
    SystemKind.PAYROLL: "#f3e5f5",
    SystemKind.INVENTORY: "#fffde7",
    SystemKind.VENDOR: "#efebe9",
}


@dataclass
class Node:
    system: System
    column: int
    x: float = 0.0
    y: float = 0.0
    ports: dict[str, list[str]] = field(default_factory=lambda: {"left": [], "right": []})
    """Flow ids leaving or entering each side, in drawing order."""


def column_of_systems(catalog: Catalog) -> dict[str, int]:
    """Column per system: 0 for the POS, negative for systems feeding it, positive for those it feeds."""
    flows = drawable_flows(catalog)
    centre = [s.id for s in catalog.systems if s.kind == SystemKind.POS] or _busiest(catalog, flows)
    columns = dict.fromkeys(centre, 0)
    queue = deque(centre)
    while queue:
        current = queue.popleft()
        for other, outward in _neighbours(current, flows):
            if other in columns:
                continue
            step = 1 if outward or columns[current] > 0 else -1
            columns[other] = columns[current] + (step if columns[current] == 0 else _away(columns[current]))
            queue.append(other)
    far = max(columns.values(), default=0) + 1
    for system in catalog.systems:
        columns.setdefault(system.id, far)
    return columns


def _away(column: int) -> int:
    return 1 if column > 0 else -1


def _busiest(catalog: Catalog, flows: list[Flow]) -> list[str]:
    if not catalog.systems:
        return []
    counts = {s.id: sum(s.id in (f.from_, f.to) for f in flows) for s in catalog.systems}
    return [max(counts, key=lambda k: counts[k])]


def _neighbours(system_id: str, flows: list[Flow]) -> list[tuple[str, bool]]:
    """(other system, whether some flow goes from ``system_id`` to it), outward ones first."""
    found: dict[str, bool] = {}
    for flow in flows:
        if flow.from_ == system_id and flow.to != system_id:
            found[flow.to] = True
        elif flow.to == system_id and flow.from_ != system_id:
            found.setdefault(flow.from_, False)
    return sorted(found.items(), key=lambda item: (not item[1], item[0]))


def layout(catalog: Catalog) -> tuple[dict[str, Node], float, float]:
    """Nodes with positions, and the drawing's width and height."""
    columns = column_of_systems(catalog)
    arches = sum(_column_gap(columns, f) for f in drawable_flows(catalog))
    top = TOP + arches * ARCH_STEP
    by_column: dict[int, list[System]] = {}
    for system in catalog.systems:
        by_column.setdefault(columns[system.id], []).append(system)
    lowest = min(by_column, default=0)
    tallest = max((len(v) for v in by_column.values()), default=1)
    height = top + tallest * ROW_PITCH + 60
    nodes: dict[str, Node] = {}
    for column, systems in by_column.items():
        systems.sort(key=lambda s: (_rank(s.kind), s.id))
        offset = (tallest - len(systems)) * ROW_PITCH / 2
        for row, system in enumerate(systems):
            x = MARGIN + (column - lowest) * COLUMN_PITCH
            nodes[system.id] = Node(system, column, x, top + offset + row * ROW_PITCH)
    width = MARGIN * 2 + (max(by_column, default=0) - lowest) * COLUMN_PITCH + NODE_W
    return nodes, float(width), float(height)


def _column_gap(columns: dict[str, int], flow: Flow) -> bool:
    return abs(columns[flow.from_] - columns[flow.to]) > 1 or columns[flow.from_] == columns[flow.to]


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def _sides(flow: Flow, nodes: dict[str, Node]) -> tuple[str, str]:
    start, end = nodes[flow.from_], nodes[flow.to]
    if start.column < end.column:
        return "right", "left"
    if start.column > end.column:
        return "left", "right"
    return "right", "right"


def _assign_ports(flows: list[Flow], nodes: dict[str, Node]) -> None:
    def other_y(flow: Flow, node: Node) -> float:
        other = nodes[flow.to] if nodes[flow.from_] is node else nodes[flow.from_]
        return other.y

    for flow in flows:
        out_side, in_side = _sides(flow, nodes)
        nodes[flow.from_].ports[out_side].append(flow.id)
        nodes[flow.to].ports[in_side].append(flow.id)
    by_id = {f.id: f for f in flows}
    for node in nodes.values():
        for ids in node.ports.values():
            ids.sort(key=lambda fid: (other_y(by_id[fid], node), fid))


def _port(node: Node, side: str, flow_id: str) -> tuple[float, float]:
    ids = node.ports[side]
    y = node.y + NODE_H * (ids.index(flow_id) + 1) / (len(ids) + 1)
    return (node.x + NODE_W if side == "right" else node.x), y


Point = tuple[float, float]
Cubic = tuple[Point, Point, Point, Point]
Box = tuple[float, float, float, float]


def _edge_curves(flow: Flow, nodes: dict[str, Node], arch_y: float) -> list[Cubic]:
    """One cubic between adjacent columns; two (up to ``arch_y`` and down) for an edge that arches."""
    out_side, in_side = _sides(flow, nodes)
    x1, y1 = _port(nodes[flow.from_], out_side, flow.id)
    x2, y2 = _port(nodes[flow.to], in_side, flow.id)
    d1 = 70 if out_side == "right" else -70
    d2 = 70 if in_side == "right" else -70
    if not _arches(flow, nodes):
        return [((x1, y1), (x1 + d1, y1), (x2 + d2, y2), (x2, y2))]
    xm = (x1 + x2) / 2 if out_side != in_side else max(x1, x2) + 60
    reach = (x2 - x1) / 4 if out_side != in_side else 0
    return [
        ((x1, y1), (x1 + d1, y1), (xm - reach, arch_y), (xm, arch_y)),
        ((xm, arch_y), (xm + reach, arch_y), (x2 + d2, y2), (x2, y2)),
    ]


def _arches(flow: Flow, nodes: dict[str, Node]) -> bool:
    start, end = nodes[flow.from_].column, nodes[flow.to].column
    return abs(start - end) > 1 or start == end


def _path_data(curves: list[Cubic]) -> str:
    (x0, y0) = curves[0][0]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    for _, (ax, ay), (bx, by), (cx, cy) in curves:
        parts.append(f"C{ax:.1f},{ay:.1f} {bx:.1f},{by:.1f} {cx:.1f},{cy:.1f}")
    return " ".join(parts)


def _point_at(curve: Cubic, t: float) -> Point:
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = curve
    u = 1 - t
    x = u**3 * ax + 3 * u * u * t * bx + 3 * u * t * t * cx + t**3 * dx
    y = u**3 * ay + 3 * u * u * t * by + 3 * u * t * t * cy + t**3 * dy
    return x, y


def _label_box(text: str, x: float, y: float) -> Box:
    half = len(text) * 3.3 + 3
    return (x - half, y - 11, x + half, y + 3)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place_label(text: str, curves: list[Cubic], taken: list[Box], toward_end: bool) -> Point:
    """The first point along the edge where its label hides no other label or system box.

    ``toward_end`` tries the half nearer the destination first (where a fan of edges has spread out).
    """
    candidates = [(curves[0], 1.0)] if len(curves) > 1 else []
    order = (0.62, 0.74, 0.5, 0.84, 0.38, 0.26) if toward_end else (0.38, 0.26, 0.5, 0.16, 0.62, 0.74)
    for t in order:
        candidates += [(curve, t) for curve in curves]
    fallback = _point_at(*candidates[0])
    for curve, t in candidates:
        x, y = _point_at(curve, t)
        box = _label_box(text, x, y + 4)
        if not any(_overlaps(box, other) for other in taken):
            taken.append(box)
            return x, y + 4
    return fallback


def render_svg(catalog: Catalog, health: Mapping[str, Health] | None = None) -> str:
    """The whole diagram as a standalone SVG document."""
    health = health or {}
    nodes, width, height = layout(catalog)
    flows = drawable_flows(catalog)
    _assign_ports(flows, nodes)
    parts = [_header(width, height)]
    parts += _edges(flows, nodes, health)
    parts += [_node(node) for node in nodes.values()]
    parts.append(_legend(height))
    parts.append("</svg>\n")
    return "\n".join(parts)


def _header(width: float, height: float) -> str:
    markers = "".join(
        f'<marker id="arrow-{_health_class(state)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
        f' markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        for state, colour in HEALTH_COLOURS.items()
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}"'
        f' height="{height:.0f}" font-family="system-ui, sans-serif" role="img"'
        ' aria-label="System integration flow diagram">'
        "<title>System integration flow diagram</title>"
        f"<defs>{markers}</defs>"
        "<style>.flow text{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:4px;"
        "stroke-linejoin:round}.flow:hover path{stroke-width:4px}.system text{font-size:13px}"
        ".system .kind{font-size:10px;fill:#555;text-transform:uppercase;letter-spacing:.05em}</style>"
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#fafafa"/>'
        f'<text x="{MARGIN}" y="32" font-size="16" font-weight="600" fill="#222">'
        "System integration flows</text>"
    )


def _health_class(state: Health | None) -> str:
    return str(state) if state else "unknown"


def _edges(flows: list[Flow], nodes: dict[str, Node], health: Mapping[str, Health]) -> list[str]:
    parts: list[str] = []
    taken: list[Box] = [(n.x - 4, n.y - 4, n.x + NODE_W + 4, n.y + NODE_H + 4) for n in nodes.values()]
    arch_y = min((n.y for n in nodes.values()), default=TOP) - 12
    ordered = sorted(flows, key=lambda f: not _arches(f, nodes))
    for flow in ordered:
        curves = _edge_curves(flow, nodes, arch_y)
        if len(curves) > 1:
            arch_y -= ARCH_STEP
        lx, ly = _place_label(edge_label(flow), curves, taken, _crowded_start(flow, nodes))
        parts.append(_edge(flow, _path_data(curves), lx, ly, health.get(flow.id)))
    return parts


def _crowded_start(flow: Flow, nodes: dict[str, Node]) -> bool:
    out_side, in_side = _sides(flow, nodes)
    return len(nodes[flow.from_].ports[out_side]) >= len(nodes[flow.to].ports[in_side])


def _edge(flow: Flow, path: str, lx: float, ly: float, state: Health | None) -> str:
    colour = HEALTH_COLOURS[state]
    dash = f' stroke-dasharray="{DASHES[flow.level]}"' if DASHES[flow.level] else ""
    width = 2.4 if flow.level == Level.REALTIME else 1.8
    tooltip = (
        f"{flow.id}: {flow.from_} → {flow.to}, {edge_label(flow)}, owner {flow.owner}, {health_word(state)}"
    )
    return (
        f'<g class="flow health-{_health_class(state)} level-{flow.level}" data-flow={quoteattr(flow.id)}>'
        f"<title>{escape(tooltip)}</title>"
        f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}'
        f' marker-end="url(#arrow-{_health_class(state)})"/>'
        f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" fill="{colour}">'
        f"{escape(edge_label(flow))}</text>"
        "</g>"
    )


def _node(node: Node) -> str:
    system = node.system
    fill = KIND_FILLS.get(system.kind, "#ffffff")
    stroke_width = 2.5 if system.kind == SystemKind.POS else 1.2
    return (
        f'<g class="system kind-{system.kind}" data-system={quoteattr(system.id)}>'
        f"<title>{escape(f'{system.id} ({system.connector}), owner {system.owner}')}</title>"
        f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="8" fill="{fill}"'
        f' stroke="#37474f" stroke-width="{stroke_width}"/>'
        f'<text class="kind" x="{node.x + 12:.1f}" y="{node.y + 18:.1f}">'
        f"{escape(KIND_TITLES.get(system.kind, system.kind))}</text>"
        f'<text x="{node.x + 12:.1f}" y="{node.y + 38:.1f}" font-weight="600">{escape(system.id)}'
        f'<tspan font-weight="400" fill="#555"> · {escape(system.connector)}</tspan></text>'
        "</g>"
    )


def _legend(height: float) -> str:
    y = height - 34
    items = []
    x = MARGIN
    for state in (Health.HEALTHY, Health.LATE, Health.FAILING, Health.IDLE, Health.NEVER_RAN):
        colour = HEALTH_COLOURS[state]
        items.append(
            f'<line x1="{x}" y1="{y}" x2="{x + 26}" y2="{y}" stroke="{colour}" stroke-width="3"/>'
            f'<text x="{x + 32}" y="{y + 4}" font-size="11" fill="#333">{health_word(state)}</text>'
        )
        x += 120
    for level in Level:
        dash = f' stroke-dasharray="{DASHES[level]}"' if DASHES[level] else ""
        items.append(
            f'<line x1="{x}" y1="{y}" x2="{x + 26}" y2="{y}" stroke="#455a64" stroke-width="2"{dash}/>'
            f'<text x="{x + 32}" y="{y + 4}" font-size="11" fill="#333">{level}</text>'
        )
        x += 110
    return f'<g class="legend">{"".join(items)}</g>'
