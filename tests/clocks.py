"""The suite's own "now": the minute the test session started, by the hub's clock.

Tests take their dates from here (never from a constant), so the suite passes on whatever day it
runs, and ``make test`` runs the time-sensitive tests again with the hub's clock moved to other
dates (``EXPEDITER_CLOCK_OFFSET``, see :mod:`expediter.model.clock`).
"""

from __future__ import annotations

from expediter.model import clock

SUITE_STARTED = clock.now().replace(second=0, microsecond=0)
