"""Runbooks that cannot drift: ``expediter docs flows`` writes one page per flow from the catalog,
and the dashboard serves the very same page."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from expediter.access.roles import Role
from expediter.catalog.contacts import ContactKind, contact_kind
from expediter.cli import app
from expediter.engine.hub import Hub
from expediter.web.app import create_app, read_catalog
from tests.engine.helpers import TEST_CONNECTORS
from tests.fixtures_path import REPO_ROOT
from tests.web.signin import signed_in
from tests.web.test_flow_page import page_catalog

EXAMPLE = REPO_ROOT / "examples" / "single-restaurant" / "expediter.toml"


def test_docs_flows_writes_a_page_per_flow_with_what_each_alert_means(tmp_path: Path) -> None:
    out = tmp_path / "runbooks"
    result = CliRunner().invoke(app, ["docs", "flows", "-o", str(out), "-c", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    catalog = read_catalog(EXAMPLE)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["index.md", *(f"{f.id}.md" for f in catalog.flows)]
    )
    assert f"{len(catalog.flows)} runbook pages and an index written" in result.output
    flow = catalog.flow("pos_orders_to_kds")
    assert flow is not None
    page = (out / "pos_orders_to_kds.md").read_text(encoding="utf-8")
    for words in (
        "# Runbook: pos_orders_to_kds",
        flow.description,
        f"| Owner | {flow.owner} |",
        f"| Contact | {flow.contact} |",
        "| What moves | `orders` |",
        "## What breaks when it stops",
        flow.impact,
        "### `dead_letter`",
        "**What to do:** Read the dead letters' error on the flow page",
        "`expediter replay --flow pos_orders_to_kds --all`",
        "### `volume`",
        "### `offline`",
        "`expediter drill pos_orders_to_kds`",
    ):
        assert words in page, words
    nightly = (out / "sales_summary_to_back_office.md").read_text(encoding="utf-8")
    assert "### `lateness`" in nightly and "### `dead_letter`" not in nightly
    assert "on the schedule `" in nightly
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "[pos_orders_to_kds](pos_orders_to_kds.md)" in index


def test_the_dashboard_serves_the_page_docs_flows_writes(tmp_path: Path) -> None:
    catalog = page_catalog(tmp_path)
    config = tmp_path / "catalog.json"
    config.write_bytes(msgspec.json.encode(catalog))
    out = tmp_path / "runbooks"
    assert CliRunner().invoke(app, ["docs", "flows", "-o", str(out), "-c", str(config)]).exit_code == 0
    written = MarkdownIt("default", {"html": False}).render((out / "pos-kds.md").read_text(encoding="utf-8"))

    async def served() -> str:
        hub = Hub(catalog, connectors=TEST_CONNECTORS)
        async with hub, signed_in(hub, create_app(hub, manage_hub=False), Role.VIEWER) as (client, _):
            return (await client.get("/flows/pos-kds/runbook")).text

    assert written in asyncio.run(served())


def test_a_contact_is_an_address_a_phone_number_or_a_channel() -> None:
    channels = {"kitchen-slack"}
    assert contact_kind("chef@bistro.example", channels) is ContactKind.EMAIL
    assert contact_kind("+1 (212) 555-0100", channels) is ContactKind.PHONE
    assert contact_kind("kitchen-slack", channels) is ContactKind.CHANNEL
    for nobody in ("", "Chef Andre", "chef@", "555", "call me maybe", "a@b"):
        assert contact_kind(nobody, channels) is None, nobody
