"""Shared pieces for web tests: a catalog with two locations, a POS, a KDS, and an API token."""

from __future__ import annotations

from pathlib import Path

import pytest

from expediter.catalog.schema import ApiToken, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location

API_TOKEN = "test-token-for-the-pos"


def web_catalog(database: Path) -> Catalog:
    return Catalog(
        hub=Hub(database=str(database), allowed_hosts=["hub.test", "localhost"]),
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
def catalog(tmp_path: Path) -> Catalog:
    return web_catalog(tmp_path / "hub.db")
