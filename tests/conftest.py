"""Fixtures every test area may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from expediter.model.clock import ManualClock, use_clock
from tests.clocks import SUITE_STARTED


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The hub's clock, standing still at the minute the suite started until the test moves it."""
    with use_clock(ManualClock(SUITE_STARTED)) as manual:
        yield manual
