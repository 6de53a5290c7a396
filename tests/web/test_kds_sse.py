"""The live feed over the real HTTP stack: uvicorn on loopback, httpx streaming like a screen."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from expediter.operations.kitchen import ticket_id_for
from tests.operations.kitchen.helpers import order
from tests.operations.kitchen.live import LiveKitchen


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveKitchen]:
    server = LiveKitchen(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


class Feed:
    """Reads server-sent events off one streaming response."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines

    def next(self) -> tuple[str, int | None, Any]:
        event, seq, data = "message", None, ""
        for line in self.lines:
            if line == "":
                if data:
                    return event, seq, json.loads(data)
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                event = value
            elif field == "id":
                seq = int(value)
            elif field == "data":
                data += value
        raise AssertionError("stream ended")

    def until_caught_up(self) -> list[tuple[str, int | None, Any]]:
        seen = []
        while (item := self.next())[0] != "caught_up":
            seen.append(item)
        return seen


def stream(live: LiveKitchen, station: str, headers: dict[str, str] | None = None) -> Any:
    client = httpx.Client(base_url=live.url, timeout=httpx.Timeout(10.0))
    return client, client.stream("GET", f"/kds/{station}/events", headers=headers or {})


def orders_in(events: list[tuple[str, int | None, Any]]) -> list[tuple[int | None, str, str]]:
    return [(seq, data["ticket"]["order_id"], data["ticket"]["state"]) for _, seq, data in events]


def test_fresh_screen_gets_a_snapshot_then_live_events(live: LiveKitchen) -> None:
    live.call(live.kitchen.receive(order("o-1")))
    client, request = stream(live, "grill")
    with client, request as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        feed = Feed(response.iter_lines())
        [(kind, seq, data)] = feed.until_caught_up()
        assert (kind, seq, [t["order_id"] for t in data["tickets"]]) == ("snapshot", 1, ["o-1"])
        assert live.kitchen.screens_online("grill") == 1
        live.call(live.kitchen.receive(order("o-2")))
        kind, seq, data = feed.next()
        assert (kind, seq, data["ticket"]["order_id"]) == ("ticket", 2, "o-2")


def test_reconnect_with_last_event_id_gets_exactly_what_was_missed_in_order(live: LiveKitchen) -> None:
    live.call(live.kitchen.receive(order("o-1")))
    live.call(live.kitchen.receive(order("o-2")))
    # the screen saw events 1 and 2, then lost its connection; the kitchen kept working
    live.call(live.kitchen.receive(order("o-3")))
    live.call(live.kitchen.bump("grill", ticket_id_for("o-1", "grill")))
    live.call(live.kitchen.receive(order("o-4")))
    client, request = stream(live, "grill", {"Last-Event-ID": "2"})
    with client, request as response:
        feed = Feed(response.iter_lines())
        missed = feed.until_caught_up()
        assert orders_in(missed) == [(3, "o-3", "new"), (4, "o-1", "bumped"), (5, "o-4", "new")]
        live.call(live.kitchen.receive(order("o-5")))
        kind, seq, data = feed.next()
        assert (kind, seq, data["ticket"]["order_id"]) == ("ticket", 6, "o-5")


def test_server_side_cut_then_resume_from_the_query_position(live: LiveKitchen) -> None:
    live.call(live.kitchen.receive(order("o-1")))
    client, request = stream(live, "expo")
    with client, request as response:
        feed = Feed(response.iter_lines())
        [(_, last, _)] = feed.until_caught_up()
        assert live.disconnect("expo") == 1
        with pytest.raises(AssertionError, match="stream ended"):
            feed.next()
    live.call(live.kitchen.receive(order("o-2")))
    with (
        httpx.Client(base_url=live.url, timeout=10.0) as again,
        again.stream("GET", f"/kds/expo/events?after={last}") as response,
    ):
        missed = Feed(response.iter_lines()).until_caught_up()
    assert orders_in(missed) == [(2, "o-2", "new")]


def test_position_ahead_of_the_log_gets_a_fresh_snapshot(live: LiveKitchen) -> None:
    live.call(live.kitchen.receive(order("o-1")))
    client, request = stream(live, "grill", {"Last-Event-ID": "99"})
    with client, request as response:
        [(kind, seq, data)] = Feed(response.iter_lines()).until_caught_up()
    assert (kind, seq, len(data["tickets"])) == ("snapshot", 1, 1)


def test_bad_position_is_a_clear_400(live: LiveKitchen) -> None:
    with httpx.Client(base_url=live.url, timeout=10.0) as client:
        response = client.get("/kds/grill/events", headers={"Last-Event-ID": "abc"})
    assert response.status_code == 400
    assert "bad event position" in response.json()["error"]


def test_a_closed_screen_no_longer_counts_as_online(live: LiveKitchen) -> None:
    """Printers in ``when_screen_offline`` mode rely on this count."""
    client, request = stream(live, "fry")
    with client, request as response:
        # Keep the feed referenced: a dropped line iterator closes the stream, and the screen with it.
        feed = Feed(response.iter_lines())
        feed.until_caught_up()
        assert live.kitchen.screens_online("fry") == 1
    deadline = time.monotonic() + 10
    while live.kitchen.screens_online("fry") and time.monotonic() < deadline:
        time.sleep(0.02)  # polling a condition with a deadline, not timing anything
    assert live.kitchen.screens_online("fry") == 0
