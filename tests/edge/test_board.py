"""The group's words for an edge's state, from its last heartbeat and the group's copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from expediter.edge.group import EdgeState, Heard, view_of
from expediter.edge.links import Heartbeat, LinkState

NOW = datetime(2026, 3, 8, 14, 2, 30, tzinfo=UTC)


def heard(seconds_ago: float, up_sequence: int) -> Heard:
    at = NOW - timedelta(seconds=seconds_ago)
    beat = Heartbeat(
        location="L1", at=at, link=LinkState.CONNECTED, offline_since=None, pending=0, up_sequence=up_sequence
    )
    return Heard(beat=beat, at=at)


def test_an_edge_heard_lately_and_held_in_full_is_online() -> None:
    view = view_of("L1", heard(1, 40), 40, NOW, 15)
    assert (view.state, view.text, view.behind) == (EdgeState.ONLINE, "online", 0)


def test_an_edge_the_group_lags_behind_is_catching_up_with_the_count() -> None:
    view = view_of("L1", heard(1, 40), 28, NOW, 15)
    assert (view.state, view.text, view.behind) == (EdgeState.CATCHING_UP, "catching up (12 behind)", 12)


def test_an_edge_unheard_of_is_offline_since_its_last_heartbeat() -> None:
    view = view_of("L1", heard(60, 40), 40, NOW, 15)
    assert view.state is EdgeState.OFFLINE
    assert view.offline_since == NOW - timedelta(seconds=60)
    assert view.text == "offline since 2026-03-08 14:01:30 UTC"


def test_an_edge_never_heard_of_says_so() -> None:
    view = view_of("L1", None, 0, NOW, 15)
    assert (view.state, view.text, view.last_heard) == (EdgeState.NEVER_SEEN, "never seen", None)
