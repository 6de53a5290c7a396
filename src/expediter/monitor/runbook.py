"""Runbooks that cannot drift: one page per flow, written from the catalog itself.

``expediter docs flows -o DIR`` writes them as Markdown (``DIR/<flow>.md`` and an index), and the
dashboard serves the very same text at ``/flows/<flow>/runbook``: what moves, from where to
where, when, in what format, who owns it and how to reach them, what breaks when it stops, where
its alerts go, and for each alert the flow can raise what it means and what to do. Change the
catalog and both change with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from markdown_it import MarkdownIt

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.monitor.alerts import AlertKind
from expediter.monitor.volume import VOLUME_KINDS
from expediter.plugin import Capability
from expediter.plugin.registry import loadable

DEFAULT_ROUTE = "default"
_GUIDE: dict[AlertKind, tuple[str, str]] = {
    AlertKind.FAILURE: (
        "The flow's last transfer did not succeed (a scheduled run failed, a file could not be read,"
        " a delivery is failing).",
        "Open the flow page: its transfers show the error. Fix the cause (the destination is down,"
        " a credential expired, a mapping is missing), then {rerun}. The alert resolves with the"
        " next successful transfer.",
    ),
    AlertKind.DEAD_LETTER: (
        "Deliveries gave up retrying and are parked as dead letters with their original payload; {ordered}",
        "Read the dead letters' error on the flow page and fix the cause, then press Replay (or run"
        " `expediter replay --flow {flow} --all`). They go out again in their original order and"
        " the alert resolves at once.",
    ),
    AlertKind.LATENESS: (
        "A scheduled run has not succeeded by its deadline ({deadline}).",
        "Look at the flow's last transfers: a failed run says why; no run at all means the hub was"
        " down or the schedule did not fire. Re-run the night from the flow page (Run now) or with"
        " `expediter run {flow} --date YYYY-MM-DD`.",
    ),
    AlertKind.HELD_FOR_REVIEW: (
        "The run went out, but set something aside for a person (pay that nobody owns).",
        "See `expediter payroll held`, assign what was held, and run the flow again.",
    ),
    AlertKind.VOLUME: (
        "The last hour at a location saw far fewer (or far more) {data} than the same hour of the same"
        " weekday normally does.",
        "Check that {source} is up and sending: its webhooks may have stopped, its API key may have"
        " changed, or the restaurant may be closed unexpectedly. Far more than usual: look for"
        " duplicates or a replay storm.",
    ),
    AlertKind.SIGNATURE_FAILURES: (
        "Webhooks from {source} keep failing their signature check, so the hub refuses them: their"
        " data is not coming in.",
        "The signing key was most likely rotated at {source}: put the new key where the catalog's"
        " secret reference points and restart the hub. The dashboard's hint says when the signed URL"
        " is the problem instead (`hub.public_url`).",
    ),
    AlertKind.OFFLINE: (
        "{offline}",
        "Check the device is on, connected and (for a printer) has paper. Tickets are kept and"
        " go out in order once it is back; no one needs to re-send them.",
    ),
    AlertKind.MISSING_FILE: (
        "No file arrived from {source} by {expected_by}.",
        "Ask the sender whether the file was sent; check the transport ({transport}) and its"
        " folder. The hub picks the file up as soon as it lands, and the alert resolves.",
    ),
    AlertKind.DRILL_FAILED: (
        "A scheduled drill broke the flow on purpose and did not see its alert reach everyone.",
        "Read the drill's reason on the flow page (a channel refused, an alert never fired), fix the"
        " route, then run `expediter drill {flow}` until it passes.",
    ),
}


def alert_kinds_for(catalog: Catalog, flow: Flow) -> list[AlertKind]:
    """The alert kinds this flow can raise, in the order the runbook explains them."""
    kinds = [AlertKind.FAILURE]
    if flow.level is Level.REALTIME:
        kinds.append(AlertKind.DEAD_LETTER)
    if flow.trigger is Trigger.SCHEDULE:
        kinds.append(AlertKind.LATENESS)
    if flow.data == "payroll":
        kinds.append(AlertKind.HELD_FOR_REVIEW)
    if flow.trigger is Trigger.EVENT and flow.volume_weeks > 0 and flow.data in VOLUME_KINDS:
        kinds.append(AlertKind.VOLUME)
    if flow.level is Level.REALTIME:
        kinds.append(AlertKind.SIGNATURE_FAILURES)
    destination = catalog.system(flow.to)
    if destination is not None and (destination.kind is SystemKind.PRINTER or _kitchen_screens(destination)):
        kinds.append(AlertKind.OFFLINE)
    if flow.trigger is Trigger.FILE_ARRIVAL and flow.expected_by:
        kinds.append(AlertKind.MISSING_FILE)
    if flow.drill_schedule:
        kinds.append(AlertKind.DRILL_FAILED)
    return kinds


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|") or "—"


def _system_line(catalog: Catalog, system_id: str) -> str:
    system = catalog.system(system_id)
    if system is None:
        return f"`{system_id}` (not in the catalog)"
    detail = f": {system.description}" if system.description else ""
    return f"`{system.id}` ({system.kind}, {system.connector}; owner {system.owner}){detail}"


def _when(catalog: Catalog, flow: Flow) -> str:
    timezone = catalog.locations[0].timezone if catalog.locations else "UTC"
    if flow.trigger is Trigger.SCHEDULE:
        by = f", must have succeeded by {flow.expected_by}" if flow.expected_by else ""
        return f"on the schedule `{flow.schedule}` ({timezone}, each location's own clock){by}"
    if flow.trigger is Trigger.FILE_ARRIVAL:
        by = f"; expected by {flow.expected_by} ({timezone})" if flow.expected_by else ""
        return f"whenever a file arrives on {flow.from_}'s {flow.transport} transport{by}"
    if flow.trigger is Trigger.MANUAL:
        return "when a person runs it (`expediter import` / `expediter export`, or the dashboard)"
    fresh = f"; alert when nothing moved for {flow.freshness_minutes} min" if flow.freshness_minutes else ""
    return f"as each message arrives from {flow.from_}{fresh}"


def _promise(flow: Flow) -> str:
    parts = []
    if flow.expected_by:
        parts.append(f"done by {flow.expected_by} local time")
    if flow.freshness_minutes:
        parts.append(f"data at least every {flow.freshness_minutes} min")
    if flow.level is Level.REALTIME:
        limit = f" (at most {flow.retry_limit} retries)" if flow.retry_limit is not None else ""
        parts.append(
            f"a failing delivery is retried for {flow.retry_hours:g} h{limit}, then parked as a dead letter"
        )
        parts.append("kept in order per destination and location" if flow.ordered else "not ordered")
    return "; ".join(parts) or "none declared"


def _alerts_line(catalog: Catalog, flow: Flow) -> str:
    routes = {route.id: route for route in catalog.alert_routes}
    route = routes.get(flow.alert_route) or routes.get(DEFAULT_ROUTE)
    if route is None:
        return "the hub's log (no `default` alert route is declared)"
    kinds = {channel.id: channel.kind for channel in catalog.alert_channels}
    told = ", ".join(f"`{name}` ({kinds.get(name, '?')})" for name in route.channels) or "the hub's log"
    text = f"route `{route.id}`: {told}"
    if flow.contact in kinds and flow.contact not in route.channels:
        text += f", and `{flow.contact}` ({kinds[flow.contact]}), the flow's contact"
    text += (
        f"; repeated every {route.repeat_minutes} min until acknowledged"
        if route.repeat_minutes
        else "; sent once"
    )
    if route.escalate_to:
        second = ", ".join(f"`{c}`" for c in route.escalate_to)
        text += f"; escalated to {second} after {route.escalate_after_minutes} min"
    return text


def _facts(catalog: Catalog, flow: Flow) -> dict[str, str]:
    return {
        "What moves": f"`{flow.data}`",
        "From": _system_line(catalog, flow.from_),
        "To": _system_line(catalog, flow.to),
        "Level": f"{flow.level} (trigger {flow.trigger})",
        "When": _when(catalog, flow),
        "Transport": flow.transport,
        "Format": flow.format,
        "Promise": _promise(flow),
        "Owner": flow.owner,
        "Contact": flow.contact or "—",
        "Alerts go to": _alerts_line(catalog, flow),
        "Drills": f"on the schedule `{flow.drill_schedule}`"
        if flow.drill_schedule
        else f"by hand: `expediter drill {flow.id}`",
        "Enabled": "yes" if flow.enabled else "no (`enabled = false`)",
    }


def _guide_words(catalog: Catalog, flow: Flow) -> dict[str, str]:
    destination = catalog.system(flow.to)
    printer = destination is not None and destination.kind is SystemKind.PRINTER
    minutes = destination.offline_minutes if destination else 5
    return {
        "flow": flow.id,
        "data": flow.data,
        "source": flow.from_,
        "transport": flow.transport,
        "expected_by": flow.expected_by or "",
        "deadline": f"expected by {flow.expected_by}"
        if flow.expected_by
        else "an hour after its scheduled time",
        "rerun": (
            f"re-run it from the flow page (Run now) or with `expediter run {flow.id}`"
            if flow.trigger is Trigger.SCHEDULE
            else "replay its dead letters or wait for the next message"
        ),
        "ordered": (
            "later deliveries to the same destination and location wait behind them, in order."
            if flow.ordered
            else "later deliveries go on without them."
        ),
        "offline": (
            f"The printer {flow.to} has not taken a ticket for {minutes} min or more."
            if printer
            else f"A station of {flow.to} has had no screen connected for {minutes} min or more."
        ),
    }


def runbook(catalog: Catalog, flow: Flow) -> str:
    """The runbook page of ``flow``, in Markdown."""
    lines = [f"# Runbook: {flow.id}", "", flow.description or "(no description in the catalog)", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {label} | {_cell(value)} |" for label, value in _facts(catalog, flow).items()]
    lines += ["", "## What breaks when it stops", "", flow.impact or "(no impact in the catalog)", ""]
    lines += ["## Alerts and what to do", ""]
    words = _guide_words(catalog, flow)
    for kind in alert_kinds_for(catalog, flow):
        meaning, action = _GUIDE[kind]
        lines += [
            f"### `{kind}`",
            "",
            meaning.format(**words),
            "",
            "**What to do:** " + action.format(**words),
            "",
        ]
    lines += [
        "## Where to look",
        "",
        f"- The flow page: `/flows/{flow.id}` (transfers, dead letters, alerts, drills).",
        f"- The ledger: `expediter transfers --flow {flow.id}`;"
        f" dead letters: `expediter dead-letters --flow {flow.id}`.",
        "- Open alerts: `expediter alerts`; acknowledge one with `expediter alerts ack ID`.",
        "",
        "*Written from the catalog by `expediter docs flows`; edit the catalog, not this page.*",
    ]
    return "\n".join(lines) + "\n"


def runbook_index(catalog: Catalog) -> str:
    lines = ["# Runbooks", "", "One page per flow, written from the catalog.", ""]
    lines += ["| flow | from → to | what | owner | contact |", "|---|---|---|---|---|"]
    for flow in catalog.flows:
        lines.append(
            f"| [{flow.id}]({page_name(flow.id)}) | {flow.from_} → {flow.to} | {_cell(flow.data)} |"
            f" {_cell(flow.owner)} | {_cell(flow.contact)} |"
        )
    return "\n".join(lines) + "\n"


def page_name(flow_id: str) -> str:
    """``<flow>.md``, with anything a file name cannot hold replaced by ``_``."""
    safe = "".join(char if char.isalnum() or char in "-_." else "_" for char in flow_id).lstrip(".")
    return f"{safe or 'flow'}.md"


def write_runbooks(catalog: Catalog, folder: Path) -> list[Path]:
    """Write ``<flow>.md`` for every flow and ``index.md`` into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in _pages(catalog):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _pages(catalog: Catalog) -> Iterable[tuple[str, str]]:
    yield "index.md", runbook_index(catalog)
    for flow in catalog.flows:
        yield page_name(flow.id), runbook(catalog, flow)


def runbook_html(catalog: Catalog, flow: Flow) -> str:
    """The same page as HTML (raw HTML in the catalog's words is shown as text, never run)."""
    return MarkdownIt("default", {"html": False}).render(runbook(catalog, flow))


def _kitchen_screens(system: System) -> bool:
    """Whether ``system`` is the kitchen's screens (its connector says so): screens go offline."""
    connector = loadable(system.connector)
    return connector is not None and Capability.KITCHEN_SCREENS in connector.capabilities
