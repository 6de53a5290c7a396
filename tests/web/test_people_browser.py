"""People and permissions in a real browser: Debian's Chromium (Playwright) against the hub's app
under uvicorn on loopback. Signing in, a viewer who cannot replay, a manager who sees only their
location, and a kitchen screen that cannot bump until an operator approves its pairing code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError
from expediter.runtime import Runtime
from expediter.web.app import create_app
from expediter.web.roles import Role
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message, sample_catalog
from tests.operations.kitchen.helpers import order
from tests.web.live_hub import LiveApp
from tests.web.signin import add_user, sign_in_page
from tests.web.test_kds_browser import CHROMIUM_ARGS
from tests.web.test_people import kitchen_catalog

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


async def refuse(item: object) -> None:
    raise TerminalError("the printer rejects the ticket")


@pytest.fixture
def dead_letters(tmp_path: Path) -> Iterator[tuple[LiveApp, Hub]]:
    """A hub with one dead letter of ``pos-printer`` at L1 and one at L2."""
    db = tmp_path / "hub.db"
    hub = Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, retry=RetryPolicy(0.001, 0.005))
    hub.services.extra["board"] = Board(behaviour={"printer": refuse})

    async def two_dead() -> bool:
        return len(await hub.deliveries.dead_letters(flow_id="pos-printer")) == 2

    with LiveApp(create_app(hub)) as live:
        live.call(hub.inbox.accept(order_message(1, "L1")))
        live.call(hub.inbox.accept(order_message(2, "L2")))
        live.call(eventually(two_dead))
        yield live, hub


def test_sign_in_and_out(browser: Browser, dead_letters: tuple[LiveApp, Hub]) -> None:
    live, hub = dead_letters
    live.call(add_user(hub, "ana", Role.OPERATOR, ("L1",)))
    page = browser.new_context().new_page()
    page.goto(f"{live.url}/transfers")
    expect(page).to_have_url(f"{live.url}/login?next=%2Ftransfers")
    page.fill('input[name="name"]', "ana")
    page.fill('input[name="password"]', "not the password")
    page.click('form.signin button[type="submit"]')
    expect(page.locator(".refusal")).to_have_text("Wrong name or password.")
    sign_in_page(page, live.url, "ana")
    expect(page.locator(".who")).to_have_text("ana · operator · L1")
    page.click("form.signout button")
    expect(page).to_have_url(f"{live.url}/login")
    page.goto(f"{live.url}/")
    expect(page).to_have_url(f"{live.url}/login?next=%2F")


FORCED_REPLAY = """async () => {
  const csrf = document.querySelector('input[name="csrf"]').value;
  const body = new URLSearchParams({ flow: "pos-printer", csrf });
  const answer = await fetch("/dashboard/replay", { method: "POST", body });
  return answer.status;
}"""


def test_a_viewer_cannot_replay(browser: Browser, dead_letters: tuple[LiveApp, Hub]) -> None:
    live, hub = dead_letters
    live.call(add_user(hub, "val", Role.VIEWER))
    page = browser.new_context().new_page()
    sign_in_page(page, live.url, "val")
    row = page.locator("#dead-pos-printer")
    expect(row).to_contain_text("an operator can replay")
    expect(row.locator("button", has_text="Replay")).to_have_count(0)
    assert page.evaluate(FORCED_REPLAY) == 403  # the form's own token, the session's role: refused
    assert len(live.call(hub.deliveries.dead_letters(flow_id="pos-printer"))) == 2


def test_a_user_sees_only_their_locations(browser: Browser, dead_letters: tuple[LiveApp, Hub]) -> None:
    live, hub = dead_letters
    live.call(add_user(hub, "harbor", Role.OPERATOR, ("L2",)))
    live.call(add_user(hub, "group", Role.OPERATOR))
    harbor = browser.new_context().new_page()
    sign_in_page(harbor, live.url, "harbor")
    group = browser.new_context().new_page()
    sign_in_page(group, live.url, "group")
    expect(harbor.locator("#dead-letters .count")).to_have_text("1")
    expect(group.locator("#dead-letters .count")).to_have_text("2")
    expect(harbor.locator("#flow-pos-bo")).to_have_count(0)  # the back office is at L1 only
    expect(group.locator("#flow-pos-bo")).to_have_count(1)
    harbor.goto(f"{live.url}/transfers?flow=pos-printer")
    expect(harbor.locator("td.flow-id", has_text="@L1")).to_have_count(0)
    expect(harbor.locator("td.flow-id", has_text="@L2").first).to_be_visible()


UNPAIRED_BUMP = """async (path) => (await fetch(path, { method: "POST" })).status"""


def test_an_unpaired_device_cannot_bump_and_pairing_works(browser: Browser, tmp_path: Path) -> None:
    runtime = Runtime(kitchen_catalog(tmp_path), schedule=False, watch=False)
    with LiveApp(create_app(runtime.hub, runtime=runtime)) as live:
        kitchen = runtime.kitchen
        live.call(kitchen.receive(msgspec.structs.replace(order("o-1", external_id="101"), location_id="L1")))
        [ticket] = kitchen.tickets_for("grill")
        live.call(add_user(runtime.hub, "ana", Role.OPERATOR, ("L1",)))

        screen = browser.new_context().new_page()
        screen.goto(f"{live.url}/kds/grill")
        code = screen.locator("#pairing-code")
        expect(code).to_have_text(_code_pattern())
        bump = f"/api/v1/kds/grill/tickets/{ticket.id}/bump"
        assert screen.evaluate(UNPAIRED_BUMP, bump) == 401
        assert kitchen.tickets_for("grill") == [ticket]  # still open

        operator = browser.new_context().new_page()
        sign_in_page(operator, live.url, "ana")
        approve(operator, live.url, code.inner_text(), "Grill tablet", "grill")
        expect(operator.locator(".flash")).to_contain_text("approved")

        # the screen looks again by itself, takes its credential and shows the station
        expect(screen.locator("#kds")).to_have_attribute("data-connection", "live", timeout=20_000)
        card = screen.locator(".ticket", has_text="#101")
        expect(card).to_have_count(1)
        screen.keyboard.press("1")  # the bump bar: select the first ticket, bump it
        screen.keyboard.press("Enter")
        expect(screen.locator(".ticket")).to_have_count(0)
        assert kitchen.tickets_for("grill") == []
        operator.reload()
        expect(operator.locator("#paired")).to_contain_text("Grill tablet")


def _code_pattern() -> Any:
    import re

    return re.compile(r"^[A-Z2-9]{3} [A-Z2-9]{3}$")


def approve(page: Page, url: str, code: str, name: str, station: str) -> None:
    page.goto(f"{url}/devices")
    page.fill('form.pair input[name="code"]', code)
    page.fill('form.pair input[name="name"]', name)
    page.select_option('form.pair select[name="location"]', "L1")
    page.check(f'form.pair input[name="stations"][value="{station}"]')
    page.click('form.pair button[type="submit"]')
