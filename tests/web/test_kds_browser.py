"""A real screen: Debian's Chromium (Playwright) on a KDS page served by uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from expediter.model.order import ModifierAction
from tests.operations.kitchen.helpers import line, mod, order
from tests.operations.kitchen.live import LiveKitchen

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveKitchen]:
    server = LiveKitchen(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


def open_screen(browser: Browser, live: LiveKitchen, station: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{live.url}/kds/{station}")
    expect(page.locator("#kds")).to_have_attribute("data-connection", "live")
    return page


def burger_order(order_id: str, number: str):  # type: ignore[no-untyped-def]
    burger = line(
        "l-1",
        "Classic Burger",
        modifiers=[
            mod("onions", ModifierAction.REMOVE),
            mod("Cheddar"),
            mod("medium rare", ModifierAction.NOTE),
        ],
    )
    return order(order_id, [burger], external_id=number)


def test_ticket_appears_with_modifiers_is_bumped_by_keys_and_expo_shows_ready(
    browser: Browser, live: LiveKitchen
) -> None:
    grill = open_screen(browser, live, "grill")
    expo = open_screen(browser, live, "expo")
    live.call(live.kitchen.receive(burger_order("o-1", "101")))

    card = grill.locator(".ticket", has_text="#101")
    expect(card).to_have_count(1)
    expect(card.locator(".item")).to_contain_text("Classic Burger")
    expect(card.locator(".mod.remove")).to_have_text("NO onions")
    expect(card.locator(".mod").nth(1)).to_have_text("+ Cheddar")
    expect(card.locator(".guest")).to_have_text("Table 12")
    expect(grill.locator("#allday")).to_contain_text("Classic Burger")

    grill.keyboard.press("1")
    expect(card).to_have_class("ticket state-new timer-green selected")
    grill.keyboard.press("Enter")
    expect(grill.locator(".ticket")).to_have_count(0)
    expect(expo.locator(".ticket.state-ready", has_text="#101")).to_have_count(1)

    grill.keyboard.press("r")
    expect(grill.locator(".ticket", has_text="#101")).to_have_count(1)
    expect(expo.locator(".ticket.state-ready")).to_have_count(0)


def test_lost_connection_shows_a_banner_and_catches_up_once_in_order(
    browser: Browser, live: LiveKitchen
) -> None:
    grill = open_screen(browser, live, "grill")
    live.call(live.kitchen.receive(burger_order("o-1", "101")))
    expect(grill.locator(".ticket")).to_have_count(1)

    grill.context.set_offline(True)
    live.disconnect("grill")
    expect(grill.locator("#kds")).to_have_attribute("data-connection", "lost")
    expect(grill.locator("#banner")).to_contain_text("CONNECTION LOST")
    for n in (2, 3, 4):
        live.call(live.kitchen.receive(burger_order(f"o-{n}", f"10{n}")))
    grill.context.set_offline(False)

    expect(grill.locator("#kds")).to_have_attribute("data-connection", "caught_up")
    expect(grill.locator("#banner")).to_contain_text("caught up")
    numbers = grill.locator(".ticket .order")
    expect(numbers).to_have_text(["#101", "#102", "#103", "#104"])


KEYS_POSTED = """() => {
  const posted = [];
  const real = window.fetch;
  window.fetch = (url, options) => {
    if (options && options.method === "POST") posted.push(String(url));
    return real(url, options);
  };
  const key = (init) =>
    document.body.dispatchEvent(new KeyboardEvent("keydown", { bubbles: true, cancelable: true, ...init }));
  key({ key: "r", ctrlKey: true });
  key({ key: "r", metaKey: true });
  key({ key: "Enter", altKey: true });
  key({ key: "Enter", repeat: true });
  const ignored = posted.length;
  key({ key: "Enter" });
  window.fetch = real;
  return [ignored, posted];
}"""


def test_browser_shortcuts_and_a_held_key_are_not_bump_bar_keys(browser: Browser, live: LiveKitchen) -> None:
    grill = open_screen(browser, live, "grill")
    live.call(live.kitchen.receive(burger_order("o-1", "101")))
    card = grill.locator(".ticket", has_text="#101")
    expect(card).to_have_count(1)
    grill.keyboard.press("1")
    expect(card).to_have_class("ticket state-new timer-green selected")

    ignored, posted = grill.evaluate(KEYS_POSTED)
    assert ignored == 0
    assert len(posted) == 1 and posted[0].endswith("/bump")
