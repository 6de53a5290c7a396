"""The dashboard through the real HTTP stack (httpx → Starlette), reading a real SQLite ledger."""

from __future__ import annotations

import asyncio
import html
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import msgspec
import pytest
from starlette.applications import Starlette

from expediter.catalog.load import load_catalog
from expediter.catalog.schema import Catalog, Mappings, System, SystemKind
from expediter.catalog.schema import Hub as HubSettings
from expediter.commands.catalog import starter_text
from expediter.connectors.escpos.client import send as send_to_printer
from expediter.engine.deliveries import DeliveryRecord, DeliveryState, RetryPolicy
from expediter.engine.hub import Hub, HubServices
from expediter.errors import TerminalError
from expediter.ledger import Direction, Ledger, Transfer, TransferOutcome
from expediter.model import clock as hub_clock
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.monitor.alerts import AlertKind
from expediter.monitor.routes import Alerting, AlertRouter
from expediter.operations.accounting.journal import build_journal
from expediter.operations.kitchen import Kitchen
from expediter.plugin.base import IncomingMessage
from expediter.sim.day import simulate_day
from expediter.sim.printer import VirtualPrinter
from expediter.storage import open_storage
from expediter.web.app import create_app
from expediter.web.dashboard import Dashboard, ago, routes
from expediter.web.dashboard_data import duration_text, shorten, size_text
from expediter.web.roles import Role
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message, sample_catalog
from tests.operations.kitchen.helpers import burger, make_kitchen, with_kitchen
from tests.operations.kitchen.helpers import order as kitchen_order
from tests.web.live_hub import LiveApp
from tests.web.signin import add_user, admin_client, sign_in_page, signed_in


class DeadLetters:
    """Stands in for the engine's deliveries: only the dead-letter listing is read."""

    def __init__(self, count: int) -> None:
        self.count = count

    async def dead_letters(self, flow_id: str | None = None, limit: int = 1000) -> list[DeliveryRecord]:
        at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
        return [
            DeliveryRecord(
                id=n,
                delivery_key=f"k{n}",
                message_id=n,
                flow_id="online_orders_to_kds",
                destination="kds",
                location_id=None,
                state=DeliveryState.DEAD,
                attempts=1,
                last_error=f"KDS refused ticket {n}",
                updated_at=at + timedelta(minutes=n),
            )
            for n in range(min(self.count, limit))
        ]


def transfer(flow_id: str, outcome: TransferOutcome, at: datetime) -> Transfer:
    return Transfer(
        flow_id=flow_id,
        direction=Direction.OUT,
        level="realtime",
        transport="sse",
        started_at=at,
        finished_at=at,
        outcome=outcome,
    )


async def serve(hub: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=routes(hub))
    async with client_for(app) as client:
        yield client


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    path = tmp_path / "expediter.toml"
    path.write_text(starter_text())
    return path


async def wired_hub(catalog_path: Path) -> tuple[SimpleNamespace, Any]:
    catalog = load_catalog(catalog_path)
    storage = open_storage(catalog_path.parent / "hub.db")
    await storage.start()
    ledger = Ledger(storage)
    now = hub_clock.now()
    await ledger.record(transfer("pos_orders_to_kds", TransferOutcome.SUCCEEDED, now - timedelta(minutes=5)))
    await ledger.record(transfer("online_orders_to_kds", TransferOutcome.DEAD, now - timedelta(minutes=2)))
    alerting = Alerting(AlertRouter(catalog, {}))
    await alerting.fire(
        AlertKind.DEAD_LETTER, "A ticket could not reach the KDS.", now, "online_orders_to_kds"
    )
    hub = SimpleNamespace(catalog=catalog, ledger=ledger, deliveries=DeadLetters(4), alerting=alerting)
    return hub, storage


def test_index_shows_every_flow_with_health_owner_and_impact(catalog_path: Path) -> None:
    async def main() -> httpx.Response:
        hub, storage = await wired_hub(catalog_path)
        try:
            async for client in serve(hub):
                return await client.get("/")
        finally:
            await storage.stop()
        raise AssertionError("unreachable")

    response = run(main())
    assert response.status_code == 200
    html = response.text
    catalog = load_catalog(catalog_path)
    for flow in catalog.flows:
        assert f'id="flow-{flow.id}"' in html
    failing = html.split('id="flow-online_orders_to_kds"')[1].split("</tr>")[0]
    assert "badge health-failing" in failing
    assert "Impact:" in failing and "Takeout and delivery orders are not cooked" in failing
    healthy = html.split('id="flow-pos_orders_to_kds"')[1].split("</tr>")[0]
    assert "badge health-healthy" in healthy and "5 min ago" in healthy and "Impact:" not in healthy
    assert "Sam (chef de cuisine)" in healthy
    assert '<meta http-equiv="refresh"' in html
    assert 'id="dead-letters"><span class="count">4</span>' in html
    assert "A ticket could not reach the KDS." in html
    assert "https://" not in html.split("<main>")[0]  # no CDN: every asset from the hub
    dead = html.split('id="dead-online_orders_to_kds"')[1].split("</tr>")[0]
    assert '<td class="num">4</td>' in dead and "KDS refused ticket 3" in dead  # the latest error
    assert "Takeout and delivery orders are not cooked" in dead
    assert 'action="/dashboard/replay"' in dead and 'value="online_orders_to_kds"' in dead


def test_index_renders_without_a_ledger(catalog_path: Path) -> None:
    hub = SimpleNamespace(catalog=load_catalog(catalog_path))

    async def main() -> httpx.Response:
        async for client in serve(hub):
            return await client.get("/")
        raise AssertionError("unreachable")

    response = run(main())
    assert response.status_code == 200
    assert "No ledger yet" in response.text


def test_diagram_page_has_the_svg_inline_and_the_mermaid_text(catalog_path: Path) -> None:
    async def main() -> tuple[httpx.Response, httpx.Response]:
        hub, storage = await wired_hub(catalog_path)
        try:
            async for client in serve(hub):
                return await client.get("/diagram"), await client.get("/diagram.svg")
        finally:
            await storage.stop()
        raise AssertionError("unreachable")

    page, svg = run(main())
    assert page.status_code == 200
    assert "<svg" in page.text and "flowchart LR" in page.text
    assert 'data-flow="online_orders_to_kds"' in page.text
    assert svg.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(svg.text)
    classes = {g.get("data-flow"): g.get("class", "") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert "health-failing" in classes["online_orders_to_kds"]
    assert "health-healthy" in classes["pos_orders_to_kds"]


def test_assets_are_served_by_the_hub(catalog_path: Path) -> None:
    hub = SimpleNamespace(catalog=load_catalog(catalog_path))

    async def main() -> list[httpx.Response]:
        async for client in serve(hub):
            return [
                await client.get("/static/dashboard/dashboard.css"),
                await client.get("/static/dashboard/dashboard.js"),
                await client.get("/static/dashboard/secrets.txt"),
            ]
        raise AssertionError("unreachable")

    css, js, other = run(main())
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert other.status_code == 404


def test_ago() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert ago(None, now) == "—"
    assert ago(now - timedelta(seconds=10), now) == "just now"
    assert ago(now - timedelta(minutes=5), now) == "5 min ago"
    assert ago(now - timedelta(hours=3), now) == "3 h ago"
    assert ago(now - timedelta(days=2), now) == "2 d ago"


def test_the_real_app_and_hub_serve_the_dashboard(catalog_path: Path) -> None:
    """Wired as ``expediter serve`` wires it: ``create_app`` collects these routes for the real Hub."""
    catalog = load_catalog(catalog_path)
    catalog.hub.database = str(catalog_path.parent / "real.db")
    hub = Hub(catalog, deliver=False)
    app = create_app(hub, manage_hub=False)

    async def main() -> httpx.Response:
        async with hub:
            now = hub_clock.now()
            await hub.ledger.record(transfer("kds_status_to_pos", TransferOutcome.FAILED, now))
            async with admin_client(hub, app) as client:
                return await client.get("/")

    response = run(main())
    assert response.status_code == 200
    row = response.text.split('id="flow-kds_status_to_pos"')[1].split("</tr>")[0]
    assert "badge health-failing" in row
    assert 'id="dead-letters"><span class="count">0</span>' in response.text


# -- transfers -------------------------------------------------------------------------------------

LONG_ERROR = "SFTP upload refused: permission denied on /inbox/sales.csv " + "x" * 120 + "\nsecond line"


def test_recent_transfers_on_the_index_and_filtered_on_their_page(catalog_path: Path) -> None:
    """The real app and Hub: 55 transfers recorded → 50 on ``/``; ``/transfers`` filters them."""
    catalog = load_catalog(catalog_path)
    catalog.hub.database = str(catalog_path.parent / "real.db")
    hub = Hub(catalog, deliver=False)

    async def main() -> list[httpx.Response]:
        async with hub:
            start = hub_clock.now() - timedelta(hours=1)
            for _ in range(54):
                await hub.ledger.record(transfer("pos_orders_to_kds", TransferOutcome.SUCCEEDED, start))
            failed = transfer("kds_status_to_pos", TransferOutcome.DEAD, start + timedelta(minutes=5))
            failed.error, failed.file_name, failed.bytes = LONG_ERROR, "sales_L001.csv", 2048
            await hub.ledger.record(failed)
            async with admin_client(hub, create_app(hub, manage_hub=False)) as client:
                return [
                    await client.get("/"),
                    await client.get("/transfers", params={"flow": "kds_status_to_pos"}),
                    await client.get("/transfers", params={"outcome": "succeeded"}),
                    await client.get("/transfers", params={"flow": "pos_orders_to_kds", "outcome": "dead"}),
                    await client.get("/transfers", params={"outcome": "no-such-outcome"}),
                    await client.get("/transfers", params={"outcome": "failed"}),
                ]

    index, by_flow, by_outcome, nothing, unfiltered, failures = run(main())
    recent = index.text.split('id="recent-transfers"')[1]
    assert recent.count('<tr class="outcome-') == 50
    first = recent.split('<tr class="outcome-')[1]  # newest first: the dead one
    assert first.startswith("dead") and "sales_L001.csv" in first and "2.0 kB" in first
    assert f'<span title="{LONG_ERROR}">' in first  # the full text on hover
    assert "…</span>" in first and "second line</span>" not in first  # shortened in the cell
    rows = by_flow.text.count('<tr class="outcome-')
    assert by_flow.status_code == 200 and rows == 1
    assert '<option value="kds_status_to_pos" selected>' in by_flow.text
    assert by_outcome.text.count('<tr class="outcome-succeeded">') == 54
    assert by_outcome.text.count('<tr class="outcome-') == 54
    assert "No transfers match these filters" in nothing.text
    assert unfiltered.text.count('<tr class="outcome-') == 55
    assert failures.text.count('<tr class="outcome-') == 1  # "failed" finds the dead delivery too
    assert failures.text.count('<tr class="outcome-dead">') == 1


# -- dead letters and the Replay button ------------------------------------------------------------


async def refuse(item: object) -> None:
    raise TerminalError("printer_grill rejects the ticket: unknown station")


def test_replay_button_sends_dead_letters_back_and_refuses_forged_posts(tmp_path: Path) -> None:
    board = Board(behaviour={"printer": refuse})
    db = tmp_path / "hub.db"
    hub = Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, retry=RetryPolicy(0.001, 0.005))
    hub.services.extra["board"] = board

    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with hub:
            await hub.inbox.accept(order_message(1, "L1"))
            await hub.inbox.accept(order_message(2, "L2"))
            await eventually(lambda: len(board.delivered_to("kds")) == 2)
            await eventually(_dead_count(hub, 2))
            async with signed_in(hub, create_app(hub, manage_hub=False), Role.OPERATOR) as (client, csrf):
                seen["index"] = await client.get("/")
                form = {"flow": "pos-printer"}
                seen["cross_origin"] = await client.post(
                    "/dashboard/replay",
                    data={**form, "csrf": csrf},
                    headers={"Origin": "http://evil.example"},
                )
                seen["no_token"] = await client.post("/dashboard/replay", data=form)
                seen["wrong_token"] = await client.post("/dashboard/replay", data={**form, "csrf": "guess"})
                seen["null_origin"] = await client.post(
                    "/dashboard/replay", data={**form, "csrf": csrf}, headers={"Origin": "null"}
                )
                seen["still_dead"] = len(await hub.deliveries.dead_letters())
                seen["unknown_flow"] = await client.post(
                    "/dashboard/replay",
                    data={"flow": "nope", "csrf": csrf},
                    headers={"Origin": "https://localhost"},
                )
                del board.behaviour["printer"]  # the cause is fixed: the printer takes tickets again
                seen["replay"] = await client.post("/dashboard/replay", data={**form, "csrf": csrf})
                seen["after"] = await client.get(seen["replay"].headers["location"])
            await eventually(lambda: len(board.delivered_to("printer")) == 2)
            seen["dead_after"] = await hub.deliveries.dead_letters()
        return seen

    seen = run(main())
    row = seen["index"].text.split('id="dead-pos-printer"')[1].split("</tr>")[0]
    assert '<td class="num">2</td>' in row and "unknown station" in row and "ops" in row
    assert '<form method="post" action="/dashboard/replay"' in row and 'name="csrf"' in row
    for refused in ("cross_origin", "no_token", "wrong_token", "null_origin"):
        assert seen[refused].status_code == 403, refused
    assert seen["still_dead"] == 2  # nothing moved on a refused post
    assert seen["unknown_flow"].status_code == 400
    assert seen["replay"].status_code == 303
    assert seen["replay"].headers["location"].startswith("/?replayed=2&flow=pos-printer")
    after = seen["after"].text
    assert '<p class="flash" role="status">2 deliveries of pos-printer back to pending</p>' in after
    assert 'content="15; url=/"' in after  # the next refresh drops the message
    assert seen["dead_after"] == []


def _dead_count(hub: Any, count: int) -> Any:
    async def check() -> bool:
        return len(await hub.deliveries.dead_letters()) == count

    return check


# -- last night's journal --------------------------------------------------------------------------

LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")
DAY = date(2026, 11, 26)
AFTER_CLOSE = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 10:00 in New York: the 26th has ended


MAPPINGS_TOML = """
[mappings.category_accounts]
"Starters" = "4000 Food Sales"
"Burgers" = "4000 Food Sales"
"Entrees" = "4000 Food Sales"
"Salads" = "4000 Food Sales"
"Sides" = "4000 Food Sales"
"Desserts" = "4000 Food Sales"
"Beer" = "4100 Beer Sales"
"Wine" = "4110 Wine Sales"
"Cocktails" = "4120 Liquor Sales"
"Non-alcoholic" = "4200 Beverage Sales"

[mappings.stations]
"Starters" = ["fry"]
"Burgers" = ["grill"]
"Entrees" = ["grill"]
"Salads" = ["cold"]
"Sides" = ["fry"]
"Desserts" = ["cold"]
"Beer" = ["bar"]
"Wine" = ["bar"]
"Cocktails" = ["bar"]
"Non-alcoholic" = ["bar"]

[mappings.discount_accounts]
"happy hour" = "4900 Discounts"
"employee meal" = "4910 Employee Discounts"
"Happy Hour" = "4900 Discounts"
"Employee 50%" = "4910 Employee Discounts"

[mappings.tender_accounts]
"card" = "1010 Card Clearing"
"amex" = "1015 AmEx Clearing"
"cash" = "1000 Cash on Hand"
"gift_card" = "2300 Gift Card Liability"
"marketplace" = "1020 Marketplace Clearing"
"doordash" = "1021 DoorDash Clearing"
"uber eats" = "1022 Uber Eats Clearing"
"grubhub" = "1023 Grubhub Clearing"

[mappings.accounts]
sales_tax = "2100 Sales Tax Payable"
tips_payable = "2200 Tips Payable"
service_charges = "4500 Service Charges"
auto_gratuity = "2210 Auto-Gratuity Payable"
gift_cards = "2300 Gift Card Liability"
cash_over_short = "6900 Cash Over/Short"
comps = "4950 Comps"
refunds = "4960 Refunds"
unpaid_checks = "1200 Unpaid Checks"

[mappings.account_types]
"2210 Auto-Gratuity Payable" = "liability"
"""
"""Copied from the demo catalog (``src/expediter/demo/catalog.toml``): they cover a simulated day."""


def demo_mappings(*, drop_category: str | None = None) -> Mappings:
    """The demo's mappings (optionally missing one sales category)."""
    data = tomllib.loads(MAPPINGS_TOML)["mappings"]
    if drop_category is not None:
        del data["category_accounts"][drop_category]
    return msgspec.convert(data, Mappings)


def journal_hub(tmp_path: Path, mappings: Mappings) -> Any:
    catalog = Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db")),
        locations=[LOCATION],
        systems=[System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM")],
        mappings=mappings,
    )
    return Hub(catalog, deliver=False)


async def store_day(hub: Any, orders: list[Order]) -> None:
    """As the POS connector stores them: one message per order version, with its business date."""
    for order in orders:
        message = IncomingMessage(
            source_system="pos",
            kind="orders",
            idempotency_key=f"pos:orders:{order.id}:{order.version}",
            payload=msgspec.json.encode(order),
            location_id=LOCATION.id,
        )
        await hub.inbox.accept(message, ref=order.id, business_date=order.business_date)


def journal_pages(tmp_path: Path, mappings: Mappings) -> tuple[list[httpx.Response], Dashboard, list[Order]]:
    orders = simulate_day(LOCATION, DAY, seed=11, scale=0.05).orders
    hub = journal_hub(tmp_path, mappings)
    dashboard = Dashboard(hub, clock=lambda: AFTER_CLOSE)

    async def main() -> list[httpx.Response]:
        async with hub:
            await store_day(hub, orders)
            app = Starlette(routes=dashboard.routes())
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost"
            ) as client:
                return [await client.get("/"), await client.get("/")]

    return run(main()), dashboard, orders


def test_last_nights_journal_is_balanced_and_cached(tmp_path: Path) -> None:
    mappings = demo_mappings()
    (first, second), dashboard, orders = journal_pages(tmp_path, mappings)
    entry = build_journal(orders, mappings, location_id=LOCATION.id, business_date=DAY)
    panel = first.text.split('id="journal-L001"')[1].split("</details>")[0]
    assert "2026-11-26" in panel and entry.document_number in panel
    assert '<span class="badge journal-balanced">balanced</span>' in panel
    debits = entry.total_debits().format()
    assert entry.total_debits() == entry.total_credits() and entry.total_debits().amount > 0
    assert f'debits <strong class="amount">{debits}</strong>' in panel
    assert f'credits <strong class="amount">{debits}</strong>' in panel
    assert f"<summary>{len(entry.lines)} lines</summary>" in panel
    assert "4000 Food Sales" in panel and "2100 Sales Tax Payable" in panel
    assert second.text.split('id="journal-L001"')[1] == first.text.split('id="journal-L001"')[1]
    assert dashboard.journals.builds == 1  # the refresh did not rebuild an unchanged day


def test_last_nights_journal_is_held_with_the_missing_mapping(tmp_path: Path) -> None:
    (page, _), _, _ = journal_pages(tmp_path, demo_mappings(drop_category="Beer"))
    panel = html.unescape(page.text.split('id="journal-L001"')[1].split("</section>")[0])
    assert '<span class="badge journal-held">held</span>' in panel
    assert "<code>category_accounts: Beer</code>" in panel
    assert '[mappings.category_accounts]\n"Beer" = ' in panel
    assert "balanced" not in panel


def test_journal_panel_without_orders_says_so(tmp_path: Path) -> None:
    hub = journal_hub(tmp_path, demo_mappings())

    async def main() -> httpx.Response:
        async with hub:
            app = Starlette(routes=routes(hub, clock=lambda: AFTER_CLOSE))
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost"
            ) as client:
                return await client.get("/")

    panel = run(main()).text.split('id="journal-L001"')[1]
    assert "journal-empty" in panel and "No orders stored for this business date." in panel


# -- the kitchen and its printer -------------------------------------------------------------------


def escpos_ticket(text: str) -> bytes:
    """What python-escpos sends for a plain ticket: init, bold on/off, the text, feed and cut."""
    return b"\x1b@\x1bE\x01" + text.encode("cp437") + b"\x1bE\x00\n\n\x1dVA\x03"


def test_printer_page_shows_the_last_tickets_newest_first(catalog_path: Path) -> None:
    catalog = load_catalog(catalog_path)

    async def main() -> list[httpx.Response]:
        async with VirtualPrinter() as printer:
            for number in range(1, 13):
                await send_to_printer("127.0.0.1", printer.port, escpos_ticket(f"GRILL\nOrder {number}"), 5.0)
            await printer.wait_for(12)
            with_printer = SimpleNamespace(
                catalog=catalog, services=HubServices(extra={"virtual_printer": printer})
            )
            without = SimpleNamespace(catalog=catalog, services=HubServices())
            pages = []
            for hub in (with_printer, without):
                async for client in serve(hub):
                    pages += [await client.get("/"), await client.get("/printer")]
            return pages

    index, printer_page, index_without, printer_without = run(main())
    assert 'href="/printer"' in index.text
    texts = re.findall(r"<pre>(.*?)</pre>", printer_page.text, re.S)
    assert texts == [f"GRILL\nOrder {n}" for n in range(12, 2, -1)]  # the last 10, newest first
    assert "printed 12 tickets" in printer_page.text
    assert 'href="/printer"' not in index_without.text
    assert printer_without.status_code == 404


def test_kitchen_status_line_links_each_station(catalog_path: Path, tmp_path: Path) -> None:
    catalog = load_catalog(catalog_path)
    kitchen = make_kitchen(tmp_path)

    async def scenario(kitchen: Kitchen) -> httpx.Response:
        await kitchen.receive(kitchen_order(lines=[burger()]))
        hub = SimpleNamespace(catalog=catalog, services=HubServices(kitchen=kitchen))
        async for client in serve(hub):
            return await client.get("/")
        raise AssertionError("unreachable")

    response = with_kitchen(kitchen, scenario)
    line = response.text.split('id="kitchen-status"')[1].split("</p>")[0]
    assert '<a href="/kds/grill" class="station busy">grill 1</a>' in line
    assert '<a href="/kds/cold" class="station">cold 0</a>' in line
    assert 'href="/kds/expo"' in line
    assert 'href="/printer"' not in line


# -- webhook signatures ----------------------------------------------------------------------------


def test_signature_failures_show_the_latest_per_system_with_its_hint(catalog_path: Path) -> None:
    catalog = load_catalog(catalog_path)
    catalog.hub.database = str(catalog_path.parent / "real.db")
    hub = Hub(catalog, deliver=False)
    hint = "the signature matches https://hub.example.com/webhooks/online but the catalog has http://hub.example.com"

    async def main() -> list[httpx.Response]:
        async with hub, admin_client(hub, create_app(hub, manage_hub=False)) as client:
            calm = await client.get("/")
            hub.note_signature_failure("online", "signature header missing", "send X-Signature")
            hub.note_signature_failure("online", "signature does not match the body", hint)
            return [calm, await client.get("/")]

    calm, page = run(main())
    assert 'id="signature-failures"' not in calm.text
    item = html.unescape(page.text.split('id="signature-online"')[1].split("</li>")[0])
    assert "signature does not match the body" in item and hint in item
    assert "signature header missing" not in page.text  # only the latest per system


# -- a real browser presses Replay -----------------------------------------------------------------


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


class LiveHub(LiveApp):
    """The real app (its lifespan starts the hub) under uvicorn on loopback, in its own thread."""

    def __init__(self, hub: Any) -> None:
        super().__init__(create_app(hub))
        self.hub = hub


@pytest.mark.browser
def test_chromium_presses_replay_and_sees_the_deliveries_go_out(tmp_path: Path) -> None:
    """The CSRF token and the session against what a real browser sends with the form, confirm
    dialog and all."""
    from playwright.sync_api import expect, sync_playwright

    board = Board(behaviour={"printer": refuse})
    db = tmp_path / "hub.db"
    hub = Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, retry=RetryPolicy(0.001, 0.005))
    hub.services.extra["board"] = board
    with LiveHub(hub) as live, sync_playwright() as playwright:
        live.call(hub.inbox.accept(order_message(1, "L1")))
        live.call(eventually(_dead_count(hub, 1)))
        live.call(add_user(hub, "manager", Role.OPERATOR))
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            sign_in_page(page, live.url)
            page.on("dialog", lambda dialog: dialog.accept())
            del board.behaviour["printer"]
            page.locator("#dead-pos-printer button", has_text="Replay").click()
            expect(page.locator(".flash")).to_have_text("1 delivery of pos-printer back to pending")
            live.call(eventually(lambda: len(board.delivered_to("printer")) == 1))
            page.reload()
            expect(page.locator("#dead-letter-list")).to_have_count(0)
        finally:
            browser.close()


def test_cells_stay_short() -> None:
    assert shorten("timeout") == "timeout"
    assert shorten("first line\nsecond line") == "first line…"
    assert shorten("x" * 200, width=10) == "x" * 9 + "…"
    assert shorten("") == ""
    assert duration_text(timedelta(milliseconds=340)) == "340 ms"
    assert duration_text(timedelta(seconds=4.25)) == "4.2 s"
    assert duration_text(timedelta(seconds=185)) == "3 min 5 s"
    assert size_text(512) == "512 B" and size_text(2048) == "2.0 kB" and size_text(3 << 20) == "3.0 MB"
