"""Alerts reach a real SMTP server and a real HTTP receiver; failures map to the retry classes."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import httpx
import pytest

from expediter.catalog.schema import AlertChannel, AlertRoute, Catalog, Flow, Level, Trigger
from expediter.errors import ConfigError, TerminalError, TransientError
from expediter.monitor.alerts import Alert, AlertKind, AlertState, Severity
from expediter.monitor.channels import LogChannel, WebhookChannel, build_channel
from expediter.monitor.health import FlowStatus
from expediter.monitor.routes import Alerting, AlertRouter
from tests.monitor.conftest import SMTP_PASSWORD, SMTP_USER, HttpReceiver, SmtpServer

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
FLOW = Flow(
    id="pos_orders_to_kds",
    from_="pos",
    to="kds",
    data="orders",
    level=Level.REALTIME,
    trigger=Trigger.EVENT,
    owner="Sam (chef)",
    impact="The kitchen does not see new orders.",
    alert_route="kitchen",
)


def alert(state: AlertState = AlertState.FIRING) -> Alert:
    return Alert(
        rule_id="failure",
        kind=AlertKind.FAILURE,
        severity=Severity.CRITICAL,
        flow_id=FLOW.id,
        location_id="main",
        message="Flow pos_orders_to_kds is failing: HTTP 503 from the KDS.",
        state=state,
        started_at=NOW,
        last_seen_at=NOW,
    )


def email_channel(server: SmtpServer, password_ref: str = "env:TEST_SMTP_PASSWORD") -> AlertChannel:
    return AlertChannel(
        id="manager",
        kind="email",
        target="dana@example.com, sam@example.com",
        settings={
            "host": server.host,
            "port": server.port,
            "from": SMTP_USER,
            "username": SMTP_USER,
            "password": password_ref,
            "timeout_seconds": 5,
        },
    )


def test_email_alert_reaches_the_smtp_server(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    channel = build_channel(email_channel(smtp_server))
    asyncio.run(channel.send(alert(), FLOW))
    [message] = smtp_server.messages
    assert smtp_server.logins == [SMTP_USER]
    assert message["Subject"] == "[Expediter] FIRING failure: flow pos_orders_to_kds at main"
    assert message["X-Rcpt"] == "dana@example.com, sam@example.com"
    body = message.get_payload(decode=True).decode()
    assert "Owner: Sam (chef)" in body
    assert "Impact: The kitchen does not see new orders." in body
    assert SMTP_PASSWORD not in message.as_string()


def test_refused_smtp_login_is_terminal(smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    channel = build_channel(email_channel(smtp_server))
    with pytest.raises(TerminalError, match="refused the login") as caught:
        asyncio.run(channel.send(alert(), FLOW))
    assert "wrong" not in str(caught.value)
    assert smtp_server.messages == []


def test_an_smtp_server_that_is_down_is_transient(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    settings = email_channel(smtp_server).settings | {"port": 1}
    channel = build_channel(AlertChannel(id="m", kind="email", target="a@example.com", settings=settings))
    with pytest.raises(TransientError, match=r"SMTP 127\.0\.0\.1:1\b"):
        asyncio.run(channel.send(alert(), FLOW))


def test_an_unset_smtp_password_fails_at_build(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="TEST_SMTP_PASSWORD"):
        build_channel(email_channel(smtp_server))


def test_webhook_alert_is_posted_as_json(http_receiver: HttpReceiver) -> None:
    channel = build_channel(AlertChannel(id="hook", kind="webhook", target=http_receiver.url))
    asyncio.run(channel.send(alert(AlertState.RESOLVED), FLOW))
    [(path, headers, document)] = http_receiver.requests
    assert path == "/hooks/alerts"
    assert headers["content-type"] == "application/json"
    assert document["state"] == "resolved"
    assert document["kind"] == "failure"
    assert document["flow"] == {
        "id": FLOW.id,
        "owner": "Sam (chef)",
        "impact": FLOW.impact,
        "from": "pos",
        "to": "kds",
    }


@pytest.mark.parametrize(
    ("status", "error"), [(503, TransientError), (429, TransientError), (404, TerminalError)]
)
def test_webhook_status_maps_to_retry_class(
    http_receiver: HttpReceiver, status: int, error: type[Exception]
) -> None:
    http_receiver.status = status
    channel = WebhookChannel("hook", http_receiver.url)
    with pytest.raises(error, match=f"HTTP {status}"):
        asyncio.run(channel.send(alert(), FLOW))


def test_webhook_refused_connection_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            await WebhookChannel("hook", "https://hooks.example.com/x", client=client).send(alert(), FLOW)

    with pytest.raises(TransientError, match="ConnectError"):
        asyncio.run(main())


def routed_catalog(url: str) -> Catalog:
    return Catalog(
        flows=[FLOW],
        alert_channels=[
            AlertChannel(id="log", kind="log"),
            AlertChannel(id="down", kind="webhook", target="http://127.0.0.1:1/nothing"),
            AlertChannel(id="hook", kind="webhook", target=url),
        ],
        alert_routes=[
            AlertRoute(id="kitchen", channels=["down", "hook"]),
            AlertRoute(id="default", channels=["log"]),
        ],
    )


def test_a_failing_channel_does_not_stop_the_others(http_receiver: HttpReceiver) -> None:
    router = AlertRouter.from_catalog(routed_catalog(http_receiver.url))
    results = asyncio.run(router.dispatch(alert()))
    assert results["hook"] is None
    assert results["down"] is not None and "ConnectError" in results["down"]
    assert len(http_receiver.requests) == 1


def test_alerts_without_a_flow_use_the_default_route(http_receiver: HttpReceiver) -> None:
    router = AlertRouter.from_catalog(routed_catalog(http_receiver.url))
    hub_alert = alert()
    hub_alert.flow_id = None
    assert [type(c) for c in router.channels_for(hub_alert)] == [LogChannel]


def test_health_evaluation_fires_once_and_resolves(http_receiver: HttpReceiver) -> None:
    catalog = routed_catalog(http_receiver.url)
    catalog.alert_routes[0] = AlertRoute(id="kitchen", channels=["hook"])
    alerting = Alerting(AlertRouter.from_catalog(catalog))
    failing = {FLOW.id: FlowStatus(last_transfer_at=NOW, last_outcome="dead")}
    healthy = {FLOW.id: FlowStatus(last_transfer_at=NOW, last_outcome="succeeded", last_success_at=NOW)}

    async def main() -> None:
        await alerting.evaluate_health(failing, NOW)
        await alerting.evaluate_health(failing, NOW)
        assert [a.kind for a in alerting.book.firing()] == [AlertKind.FAILURE]
        await alerting.evaluate_health(healthy, NOW)

    asyncio.run(main())
    assert [doc["state"] for _, _, doc in http_receiver.requests] == ["firing", "resolved"]
    assert alerting.book.firing() == []


def test_the_webhook_url_never_reaches_the_logs_or_the_errors(
    http_receiver: HttpReceiver, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A chat service's incoming-webhook URL is a credential: anyone holding it can post."""
    secret = "T0001/B0002/Xq9sEcReTtOkEn"
    url = http_receiver.url.replace("/hooks/alerts", f"/services/{secret}")
    shown = url.split("/services/")[0] + "/…"
    catalog = Catalog(
        flows=[FLOW],
        alert_channels=[AlertChannel(id="hook", kind="webhook", target=url)],
        alert_routes=[AlertRoute(id="kitchen", channels=["hook"])],
    )
    router = AlertRouter.from_catalog(catalog)
    caplog.set_level(logging.DEBUG)

    sent = asyncio.run(router.dispatch(alert()))
    http_receiver.status = 503
    refused = asyncio.run(router.dispatch(alert(AlertState.RESOLVED)))

    assert sent == {"hook": None} and len(http_receiver.requests) == 2
    assert http_receiver.requests[0][0] == f"/services/{secret}"  # the alert went to the real URL
    error = refused["hook"]
    assert error is not None and f"HTTP 503: alert channel hook: {shown}" in error
    logged = caplog.text + "".join(capsys.readouterr())
    assert f"HTTP Request: POST {shown}" in logged and "alert_channel_failed" in logged
    assert secret not in logged and secret not in error
