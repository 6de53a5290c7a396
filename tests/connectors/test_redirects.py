"""Every connector that talks HTTP treats a redirect as a terminal error naming the new location:
a 3xx answer delivered nothing (httpx does not follow it), so it must never count as delivered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from expediter.catalog.schema import Flow, Level, Trigger
from expediter.connectors.generic_pos.client import PosClient
from expediter.connectors.online.client import OnlineClient
from expediter.connectors.quickbooks.client import QuickBooksClient
from expediter.connectors.quickbooks.config import QuickBooksSettings
from expediter.connectors.square.client import SquareClient
from expediter.errors import TerminalError
from expediter.model import clock
from expediter.monitor.alerts import Alert, AlertKind, AlertState, Severity
from expediter.monitor.channels import WebhookChannel
from expediter.operations.accounting.journal import build_journal
from tests.operations.accounting.worked_day import DAY, DRAWER, LOCATION, MAPPINGS, worked_orders

MOVED_TO = "https://new-home.example/api/v2/orders"
Call = Callable[[httpx.MockTransport], Awaitable[object]]


def redirecting(status: int) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"Location": MOVED_TO}, content=b"")

    return httpx.MockTransport(answer)


async def generic_pos(transport: httpx.MockTransport) -> object:
    client = PosClient("http://pos.test/orders", transport=transport)
    try:
        return await client.post_order(b"{}", idempotency_key="k-1")
    finally:
        await client.close()


async def online(transport: httpx.MockTransport) -> object:
    return await OnlineClient("s3cret", transport=transport).post(
        "http://online.test/hooks/status", b"{}", idempotency_key="k-1"
    )


async def quickbooks(transport: httpx.MockTransport) -> object:
    settings = QuickBooksSettings(
        base_url="http://qbo.test/", realm_id="9130", access_token="env:TEST_REDIRECT_QBO_TOKEN"
    )
    return await QuickBooksClient(settings, transport=transport).post_journal(
        build_journal(worked_orders(), MAPPINGS, location_id=LOCATION, business_date=DAY, drawer=DRAWER)
    )


async def square(transport: httpx.MockTransport) -> object:
    client = SquareClient("http://square.test", "token", square_version="2025-01-23", transport=transport)
    return await client.retrieve_order("order-1")


async def alert_webhook(transport: httpx.MockTransport) -> object:
    now = clock.now()
    alert = Alert(
        rule_id="failure",
        kind=AlertKind.FAILURE,
        severity=Severity.CRITICAL,
        flow_id=None,
        location_id=None,
        message="test",
        state=AlertState.FIRING,
        started_at=now,
        last_seen_at=now,
    )
    async with httpx.AsyncClient(transport=transport) as http:
        flow = Flow(
            id="f", from_="a", to="b", data="orders", level=Level.REALTIME, trigger=Trigger.EVENT, owner="o"
        )
        await WebhookChannel("hook", "http://alerts.test/hook", client=http).send(alert, flow)
    return None


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("call", [generic_pos, online, quickbooks, square, alert_webhook])
def test_a_redirect_is_terminal_and_names_the_new_location(
    call: Call, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REDIRECT_QBO_TOKEN", "token")
    with pytest.raises(TerminalError) as raised:
        asyncio.run(call(redirecting(status)))
    assert f"HTTP {status}" in str(raised.value)
    assert MOVED_TO in str(raised.value)
