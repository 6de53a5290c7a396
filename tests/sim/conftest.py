"""One simulated day shared by the realism tests: generating it is fast, but once is enough."""

from __future__ import annotations

import pytest

from expediter.sim.config import SimConfig
from expediter.sim.day import DaySimulation, simulate_day
from tests.sim.places import DAY, NEW_YORK


@pytest.fixture(scope="session")
def full_day() -> DaySimulation:
    """A busy Friday at full scale, with updated check versions switched on."""
    return simulate_day(NEW_YORK, DAY, seed=7, config=SimConfig(updated_versions=True))
