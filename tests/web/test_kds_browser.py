"""A real screen: Debian's Chromium (Playwright) on a KDS page served by uvicorn on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from expediter.model import clock
from expediter.model.clock import ManualClock, use_clock
from expediter.model.location import Location
from expediter.model.order import ModifierAction, OrderState
from expediter.sim.day import simulate_day
from tests.clocks import SUITE_STARTED
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
            mod("No pickles", ModifierAction.REMOVE),  # the POS's own name for the removal
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
    expect(card.locator(".mod.remove")).to_have_text(["NO onions", "NO pickles"])
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


# -- a whole screen of tickets -----------------------------------------------------------------------

SCREEN = {"width": 1280, "height": 800}
FULLY_VISIBLE = """(node) => {
  // inside the window and every box that clips it, and not covered by anything else
  if (!node) return false;
  const r = node.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  const inside = (box) => r.left >= box.left - 0.5 && r.right <= box.right + 0.5 &&
    r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
  if (!inside({ left: 0, top: 0, right: innerWidth, bottom: innerHeight })) return false;
  for (let up = node.parentElement; up; up = up.parentElement) {
    if (getComputedStyle(up).overflow !== "visible" && up !== document.documentElement &&
        up !== document.body && !inside(up.getBoundingClientRect())) return false;
  }
  const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
  return hit !== null && node.contains(hit);
}"""
COUNT_FULLY_VISIBLE = f"""() => {{
  // tickets all of whose cards are fully visible (a long one may continue in the next column)
  const cards = [...document.querySelectorAll('.ticket')];
  const ids = [...new Set(cards.map((node) => node.dataset.id))];
  return ids.filter((id) => cards.filter((node) => node.dataset.id === id).every({FULLY_VISIBLE})).length;
}}"""
SELECTED_IN_VIEW = f"""(before) => {{
  const cards = [...document.querySelectorAll('.ticket.selected')];
  return cards.length > 0 && cards[0].dataset.id !== before && cards.every({FULLY_VISIBLE});
}}"""


RUSH_DAY = date(2026, 12, 3)


def rush(live: LiveKitchen, count: int = 40) -> None:
    """The simulator's dinner checks, as many as a busy kitchen has on its screens at once: one
    Thursday's, whatever today is (the simulator's day, and so its tickets' sizes, follow its date)."""
    downtown = Location(id="loc-1", name="Downtown", timezone="America/New_York")
    day = simulate_day(downtown, RUSH_DAY, seed=7).orders
    dinner = [o for o in day if o.opened_at.astimezone(ZoneInfo(downtown.timezone)).hour >= 18]
    for check in dinner[:count]:
        live.call(
            live.kitchen.receive(
                msgspec.structs.replace(
                    check,
                    location_id="loc-1",
                    opened_at=clock.now(),
                    state=OrderState.OPEN,
                    closed_at=None,
                    payments=[],
                    refunds=[],
                    business_date=None,
                )
            )
        )


def open_at_size(browser: Browser, live: LiveKitchen, station: str) -> Page:
    page = browser.new_page(viewport=SCREEN)  # type: ignore[arg-type]
    page.goto(f"{live.url}/kds/{station}")
    expect(page.locator("#kds")).to_have_attribute("data-connection", "live")
    expect(page.locator(".ticket").first).to_be_visible()
    return page


def test_a_rush_fits_on_the_screens_at_1280x800(browser: Browser, live: LiveKitchen) -> None:
    """8 to 12 tickets at once, as real kitchen screens show them; the page itself never scrolls,
    the rest of expo is a page away."""
    rush(live)
    for station in ("grill", "expo"):
        screen = open_at_size(browser, live, station)
        shown = screen.evaluate(COUNT_FULLY_VISIBLE)
        assert shown >= 8, f"{station}: {shown} tickets fully visible"
        assert screen.evaluate("document.scrollingElement.scrollHeight") <= SCREEN["height"]
    expect(screen.locator("#pages")).to_contain_text("page 1 /")


def test_the_selected_ticket_stays_in_view_as_the_keys_move_it(browser: Browser, live: LiveKitchen) -> None:
    rush(live)
    expo = open_at_size(browser, live, "expo")
    total = int(expo.locator("#count").inner_text().split()[0])
    moves = ["ArrowDown"] * (total - 1) + ["PageUp", "ArrowRight", "ArrowRight", "PageDown", "ArrowLeft"]
    for key in moves:
        before = expo.locator(".ticket.selected").first.get_attribute("data-id")
        expo.keyboard.press(key)
        expo.wait_for_function(SELECTED_IN_VIEW, arg=before)
    expect(expo.locator("#pages")).not_to_contain_text("page 1 /")
    expo.keyboard.press("2")  # the second ticket of the page on screen, not of the whole list
    second = expo.locator(".ticket.selected").first
    expect(second.locator(".pos")).to_have_text("2")
    assert expo.evaluate(FULLY_VISIBLE, second.element_handle())


def test_the_screen_shows_the_hubs_time_in_the_locations_zone(browser: Browser, tmp_path: Path) -> None:
    """The tablet's clock is three hours off and set to another zone; the screen shows the hub's
    time where the restaurant is, times tickets by it, and shows the promised pickup time."""
    kathmandu = Location(id="loc-1", name="Thamel", timezone="Asia/Kathmandu")
    with use_clock(ManualClock(SUITE_STARTED)) as hub_clock:
        live = LiveKitchen(tmp_path, locations=[kathmandu]).start()
        try:
            pickup = hub_clock() + timedelta(minutes=25)
            live.call(live.kitchen.receive(order("o-1", [line("l-1", "Burger")], promised_at=pickup)))
            context = browser.new_context(timezone_id="America/Los_Angeles")
            context.clock.install(time=hub_clock() + timedelta(hours=3, minutes=17))
            screen = context.new_page()
            screen.goto(f"{live.url}/kds/grill")
            expect(screen.locator("#kds")).to_have_attribute("data-connection", "live")
            local = ZoneInfo(kathmandu.timezone)
            expect(screen.locator("#clock")).to_have_text(f"{hub_clock().astimezone(local):%H:%M}")
            card = screen.locator(".ticket", has_text="Burger")
            expect(card.locator(".pickup")).to_have_text(f"PICKUP {pickup.astimezone(local):%H:%M}")
            expect(card.locator(".timer")).to_have_text(re.compile(r"^00:[0-5]\d$"))
        finally:
            live.stop()
