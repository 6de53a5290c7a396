from __future__ import annotations

import pytest

from tests.connectors.square.support import SECRET_ENV


@pytest.fixture(autouse=True)
def square_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secret references in the test catalog point at these environment variables."""
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
