from __future__ import annotations

import pytest

from tests.connectors.online.support import SECRET, SECRET_ENV


@pytest.fixture(autouse=True)
def online_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
