"""Fixtures every test area may use.

Storage-backed tests ask for ``database`` (or ``new_database``): they run once on SQLite (a file in
the test's folder) and once on PostgreSQL (a new database on a real server the session starts).
``--backend sqlite`` or ``--backend postgresql`` runs one of them only. Without Debian's
PostgreSQL binaries the PostgreSQL runs are skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from expediter.model.clock import ManualClock, use_clock
from tests.clocks import SUITE_STARTED
from tests.nats_servers import nats_cluster, nats_server  # noqa: F401  (fixtures)
from tests.postgres import postgres_binaries, postgres_server, postgres_url  # noqa: F401  (fixtures)

BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("both", *BACKENDS),
        default="both",
        help="the storage backend(s) storage-backed tests run on (default: both)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.getoption("--backend")
    backends = BACKENDS if chosen == "both" else (chosen,)
    params = [
        pytest.param(name, marks=pytest.mark.service) if name == "postgresql" else name for name in backends
    ]
    metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: the backend this run of the test uses."""
    name = str(request.param)
    if name == "postgresql" and postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    return name


@pytest.fixture
def new_database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], str]]:
    """``new_database(name)``: an empty database on this run's backend, as ``hub.database`` names
    it (a SQLite file ``name.db`` in the test's folder, or a new PostgreSQL database's URL, dropped
    after the test)."""
    if backend == "sqlite":
        yield lambda name: str(tmp_path / f"{name}.db")
        return
    server = request.getfixturevalue("postgres_server")
    made: list[str] = []

    def make(name: str) -> str:
        made.append(server.create_database(name.replace("-", "_")))
        return made[-1]

    yield make
    for url in made:
        server.drop_database(url)


@pytest.fixture
def database(new_database: Callable[[str], str]) -> str:
    """The hub's database on this run's backend (``hub.db`` in the test's folder on SQLite)."""
    return new_database("hub")


# Property tests judge what the code answers, never how fast: no deadline per example and no
# complaint that generating examples is slow (both are timings, and the suite shares its machine).
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The hub's clock, standing still at the minute the suite started until the test moves it."""
    with use_clock(ManualClock(SUITE_STARTED)) as manual:
        yield manual
