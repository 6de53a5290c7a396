from __future__ import annotations

from datetime import timedelta

import pytest

from expediter.model.clock import ManualClock
from tests.operations.kitchen.helpers import OPENED


@pytest.fixture(autouse=True)
def a_minute_after_opening(clock: ManualClock) -> ManualClock:
    """Printers check an order's age: every test starts a minute after its orders were opened."""
    clock.set(OPENED + timedelta(minutes=1))
    return clock
