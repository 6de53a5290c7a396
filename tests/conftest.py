"""Fixtures every test area may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from expediter.model.clock import ManualClock, use_clock
from tests.clocks import SUITE_STARTED

# Property tests judge what the code answers, never how fast: no deadline per example and no
# complaint that generating examples is slow (both are timings, and the suite shares its machine).
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The hub's clock, standing still at the minute the suite started until the test moves it."""
    with use_clock(ManualClock(SUITE_STARTED)) as manual:
        yield manual
