"""Run tests again with the hub's clock on other dates: ``python -m tests.other_dates [PYTEST ARGS]``.

``make test`` runs the time-sensitive suites this way after the whole suite, so a test that passes
only on some days fails here first. Each run sets ``EXPEDITER_CLOCK_OFFSET`` (see
:mod:`expediter.model.clock`) for pytest and for every hub process the tests start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from expediter.model.clock import OFFSET_VARIABLE, offset_to


def other_dates() -> dict[str, datetime]:
    """Where the clock goes: minutes before New York's clocks jump, both ways; a leap day; a year on."""
    return {
        "New York springs forward (01:58 EST, 14 March 2027)": datetime(2027, 3, 14, 6, 58, tzinfo=UTC),
        "New York falls back (01:58 EDT, 7 November 2027)": datetime(2027, 11, 7, 5, 58, tzinfo=UTC),
        "29 February 2028": datetime(2028, 2, 29, 18, 0, tzinfo=UTC),
        "a year from now": datetime.now(UTC) + timedelta(days=365),
    }


def main(pytest_args: list[str]) -> int:
    failed = []
    for label, instant in other_dates().items():
        print(f"== the hub's clock at {instant:%Y-%m-%d %H:%M} UTC: {label}", flush=True)
        environment = {**os.environ, OFFSET_VARIABLE: f"{offset_to(instant):.3f}"}
        if subprocess.call([sys.executable, "-m", "pytest", *pytest_args], env=environment) != 0:
            failed.append(label)
    if failed:
        print("failed on: " + "; ".join(failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
