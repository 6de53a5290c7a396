"""The one HTTP status → retry-class map: only a 2xx answer delivers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expediter.errors import TerminalError, TransientError, error_for_status


@given(st.integers(min_value=200, max_value=299))
def test_every_2xx_is_a_delivery(status: int) -> None:
    assert error_for_status(status) is None


@given(st.integers(min_value=300, max_value=399))
def test_every_3xx_is_terminal_and_names_where_it_points(status: int) -> None:
    error = error_for_status(status, "moved", location="https://pos.example/v2/orders")
    assert isinstance(error, TerminalError)
    assert f"HTTP {status}" in str(error)
    assert "https://pos.example/v2/orders" in str(error)
    assert "nothing was delivered" in str(error)


def test_a_redirect_without_a_location_says_so() -> None:
    assert "names no new location" in str(error_for_status(302))


@pytest.mark.parametrize("status", [100, 101, 199])
def test_an_informational_final_answer_is_not_a_delivery(status: int) -> None:
    assert isinstance(error_for_status(status), TerminalError)


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 503, 504, 599])
def test_busy_or_broken_destinations_are_transient(status: int) -> None:
    assert isinstance(error_for_status(status), TransientError)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_other_4xx_are_terminal(status: int) -> None:
    assert isinstance(error_for_status(status), TerminalError)
