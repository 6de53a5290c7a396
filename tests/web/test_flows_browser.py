"""Debian's Chromium (Playwright) on the hub's own pages, served by uvicorn on loopback, signed in
through the sign-in form: a failing flow turns red on the home page while it stays open (no
reload), and a dead letter replayed from its flow page by an operator is delivered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from expediter.access.audit import AuditAction, AuditLog
from expediter.access.roles import Role
from expediter.errors import TerminalError
from expediter.plugin.base import Outbound
from tests.engine.helpers import eventually
from tests.web.live_hub import LiveHub
from tests.web.signin import add_user, sign_in_page
from tests.web.test_flow_page import order, page_catalog
from tests.web.test_kds_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser
GENEROUS = 30_000
"""Milliseconds a change may take to show on a loaded 2-core machine (a guard, not a measure)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveHub]:
    server = LiveHub(page_catalog(tmp_path)).start()
    try:
        yield server
    finally:
        server.stop()


async def _refuse(item: Outbound) -> None:
    raise TerminalError("HTTP 400 from the screens: unknown station")


def break_the_screens(live: LiveHub) -> None:
    live.board.behaviour["kds"] = _refuse
    live.call(live.hub.inbox.accept(order(1)))


def open_page(browser: Browser, live: LiveHub, path: str, role: Role = Role.OPERATOR) -> Page:
    """A new browser, signed in as a new person with ``role``, on ``path``."""
    name = f"{role.value}-{path.strip('/').replace('/', '-') or 'home'}"
    live.call(add_user(live.hub, name, role))
    page = browser.new_context().new_page()
    sign_in_page(page, live.url, name)
    page.goto(live.url + path)
    return page


def test_a_failing_flow_turns_red_on_the_open_home_page_without_a_reload(
    browser: Browser, live: LiveHub
) -> None:
    page = open_page(browser, live, "/", Role.VIEWER)
    row = page.locator("#flow-pos-kds")
    expect(row).to_have_class("health-never_ran")
    page.evaluate("window.__openedOnce = true")  # gone if the page reloads
    break_the_screens(live)
    expect(row).to_have_class("health-failing", timeout=GENEROUS)
    expect(row.locator(".badge")).to_have_text("failing")
    expect(page.locator(".tile.health-failing .count")).to_have_text("1")
    assert page.evaluate("window.__openedOnce === true"), "the page reloaded instead of updating itself"
    expect(row.locator("a.flow-link")).to_have_attribute("href", "/flows/pos-kds")


def test_replay_from_the_flow_page_delivers_the_dead_letter(browser: Browser, live: LiveHub) -> None:
    break_the_screens(live)
    live.call(eventually(lambda: _dead_letters(live)))
    page = open_page(browser, live, "/flows/pos-kds")
    letters = page.locator("#dead-letters table.dead-letters tbody tr")
    expect(letters).to_have_count(1)
    expect(letters.first).to_contain_text("HTTP 400 from the screens: unknown station")
    live.board.behaviour.pop("kds")  # the cause is fixed
    replayed = (letters.first.get_attribute("id") or "").removeprefix("dead-")
    letters.first.get_by_role("button", name="Replay").click()
    expect(page.locator(".flash")).to_contain_text("1 dead letter(s) back to pending")
    expect(page.locator("#dead-letters")).to_contain_text("None: every delivery of this flow landed")
    live.call(eventually(lambda: bool(live.board.delivered_to("kds"))))
    assert [o.flow_id for o in live.board.delivered_to("kds")] == ["pos-kds"]
    entries = live.call(AuditLog(live.hub.storage).entries())
    assert [(e.actor, e.detail) for e in entries if e.action is AuditAction.REPLAY] == [
        ("operator-flows-pos-kds", f"dead letter {replayed} of pos-kds back to pending")
    ]


async def _dead_letters(live: LiveHub) -> bool:
    return bool(await live.hub.deliveries.dead_by_flow())
