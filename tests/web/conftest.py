"""Shared pieces for web tests: a catalog with two locations, a POS, a KDS, and an API token."""

from __future__ import annotations

from pathlib import Path

import pytest

from expediter.catalog.schema import ApiToken, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location

API_TOKEN = "test-token-for-the-pos"


def web_catalog(database: str | Path, data_dir: Path | None = None) -> Catalog:
    """``data_dir``: where the side files go (beside a SQLite database when not given)."""
    folder = data_dir or Path(str(database)).parent / "data"
    return Catalog(
        hub=Hub(database=str(database), data_dir=str(folder), allowed_hosts=["hub.test", "localhost"]),
        locations=[
            Location(id="L1", name="Downtown", timezone="America/New_York"),
            Location(id="L2", name="Harbor", timezone="America/Los_Angeles", day_start="05:00"),
        ],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(id="kds", kind=SystemKind.KDS, connector="test_sink", owner="kitchen"),
            System(id="shop", kind=SystemKind.ONLINE_ORDERING, connector="test_webhook", owner="ops"),
        ],
        flows=[
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="kitchen",
            ),
        ],
        api_tokens=[
            ApiToken(name="pos", sha256=hash_token(API_TOKEN), systems=["pos"]),
            ApiToken(name="other", sha256=hash_token("token-for-the-shop"), systems=["shop"]),
        ],
    )


@pytest.fixture
def catalog(database: str, tmp_path: Path) -> Catalog:
    """The web catalog over this run's database (SQLite, then PostgreSQL)."""
    return web_catalog(database, tmp_path / "data")
