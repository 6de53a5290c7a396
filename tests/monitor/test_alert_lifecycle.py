"""An alert's life in a running hub, heard on a real SMTP server (aiosmtpd) and a real HTTP
receiver: it fires once (de-duplicated), repeats while nobody acknowledges it, escalates to the
second contact, is acknowledged with ``expediter alerts ack`` (another process's database
connection), and resolves. Each notice names the flow, the owner, what broke, since when, the
catalog's impact, the money at risk and the link to the flow page."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any

import msgspec
import pytest
from typer.testing import CliRunner

from expediter.access.audit import ActorKind, AuditAction, AuditLog
from expediter.catalog.schema import (
    AlertChannel,
    AlertRoute,
    Catalog,
    Flow,
    Level,
    System,
    SystemKind,
    Trigger,
)
from expediter.catalog.schema import Hub as HubSettings
from expediter.cli import app
from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError
from expediter.model import clock
from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Order
from expediter.monitor import alert_store
from expediter.monitor.alerts import AlertKind, AlertState
from expediter.plugin.base import IncomingMessage, Outbound
from expediter.runtime import Runtime
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually
from tests.monitor.conftest import SMTP_PASSWORD, SMTP_USER, HttpReceiver, SmtpServer

FLOW = "online-to-pos"
PUBLIC = "https://hub.bistro.example"


def lifecycle_catalog(folder: Path, smtp: SmtpServer, receiver: HttpReceiver) -> Catalog:
    return Catalog(
        hub=HubSettings(database=str(folder / "hub.db"), data_dir=str(folder / "data"), public_url=PUBLIC),
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="online", kind=SystemKind.ONLINE_ORDERING, connector="test_source", owner="ops"),
            System(id="pos", kind=SystemKind.POS, connector="test_sink", owner="ops"),
        ],
        flows=[
            Flow(
                id=FLOW,
                from_="online",
                to="pos",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="Maria Lopez (GM)",
                contact="gm@bistro.example",
                description="Online orders are entered into the POS.",
                impact="Online orders are cooked but missing from the POS: sales are understated.",
                alert_route="front",
            )
        ],
        alert_channels=[
            AlertChannel(
                id="owner-mail",
                kind="email",
                target="contact",
                settings={
                    "host": smtp.host,
                    "port": smtp.port,
                    "from": SMTP_USER,
                    "username": SMTP_USER,
                    "password": "env:TEST_SMTP_PASSWORD",
                    "timeout_seconds": 5,
                },
            ),
            AlertChannel(id="hook", kind="webhook", target="env:TEST_HOOK_URL"),
            AlertChannel(id="regional", kind="slack", target="env:TEST_SLACK_URL"),
        ],
        alert_routes=[
            AlertRoute(
                id="front",
                channels=["owner-mail", "hook"],
                repeat_minutes=10,
                escalate_to=["regional"],
                escalate_after_minutes=25,
            )
        ],
    )


def online_order() -> IncomingMessage:
    order = Order(
        id="web-1042",
        location_id="L1",
        opened_at=clock.now(),
        lines=[
            Line(id="l1", name="Burger", quantity=Decimal(2), unit_price=Money(1250)),
            Line(id="l2", name="Fries", quantity=Decimal(1), unit_price=Money(450)),
        ],
    )
    return IncomingMessage(
        source_system="online",
        kind="orders",
        idempotency_key="online:web-1042:1",
        payload=msgspec.json.encode(order),
        location_id="L1",
    )


class Heard:
    """What each channel received, in order: (channel, notice)."""

    def __init__(self, smtp: SmtpServer, receiver: HttpReceiver) -> None:
        self.smtp = smtp
        self.receiver = receiver

    def since(self, count: tuple[int, int]) -> list[tuple[str, str]]:
        mails = [("mail", _notice_of(m["Subject"])) for m in self.smtp.messages[count[0] :]]
        posts = [
            ("hook" if path == "/hooks/alerts" else "slack", _notice_of_post(path, body))
            for path, _, body in self.receiver.requests[count[1] :]
        ]
        return sorted(mails + posts)

    def mark(self) -> tuple[int, int]:
        return len(self.smtp.messages), len(self.receiver.requests)


def _notice_of(subject: str) -> str:
    for words, notice in (
        ("STILL FIRING", "repeat"),
        ("ESCALATED", "escalation"),
        ("ACKNOWLEDGED", "acknowledged"),
        ("RESOLVED", "resolved"),
        ("FIRING", "firing"),
    ):
        if f"] {words} " in subject:
            return notice
    raise AssertionError(subject)


def _notice_of_post(path: str, body: Any) -> str:
    if path == "/hooks/alerts":
        return str(body["event"])
    return _notice_of("[Expediter] " + body["blocks"][0]["text"]["text"])


def test_an_alert_fires_once_repeats_escalates_is_acknowledged_and_resolves(
    tmp_path: Path,
    clock: ManualClock,
    smtp_server: SmtpServer,
    http_receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("TEST_HOOK_URL", http_receiver.url)
    monkeypatch.setenv("TEST_SLACK_URL", http_receiver.url.replace("/hooks/alerts", "/services/T1/B2/slack"))
    declared = lifecycle_catalog(tmp_path, smtp_server, http_receiver)
    config = tmp_path / "catalog.json"
    config.write_bytes(msgspec.json.encode(declared))
    heard = Heard(smtp_server, http_receiver)
    board = Board()

    async def refuse(item: Outbound) -> None:
        raise TerminalError("HTTP 400 from the POS: unknown menu item 'Fries'")

    board.behaviour["pos"] = refuse
    steps: dict[str, list[tuple[str, str]]] = {}

    async def main() -> None:
        hub = Hub(declared, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=0.001, cap=0.001))
        hub.services.extra["board"] = board
        async with Runtime(declared, hub, schedule=False, watch=False) as runtime:
            await runtime.hub.inbox.accept(online_order())
            await eventually(lambda: _dead(runtime))
            mark = heard.mark()
            await runtime.watch_dead_letters()  # the 5-second watch (the 30-second one adds `failure`)
            await runtime.watch_dead_letters()  # still dead: nothing new is sent
            steps["fired"] = heard.since(mark)

            mark = heard.mark()
            clock.advance(5 * 60)
            await runtime.watch_dead_letters()
            clock.advance(5 * 60)
            await runtime.watch_dead_letters()
            steps["ten minutes later"] = heard.since(mark)

            mark = heard.mark()
            clock.advance(16 * 60)
            await runtime.watch_dead_letters()
            steps["twenty-six minutes later"] = heard.since(mark)

            [alert] = await runtime.alerting.open_alerts()
            command = ["alerts", "ack", str(alert.id), "--by", "Maria", "-c", str(config)]
            result = await asyncio.to_thread(CliRunner().invoke, app, command)  # its own asyncio.run
            assert result.exit_code == 0, result.output
            assert f"alert {alert.id} (dead_letter, flow {FLOW}) acknowledged by Maria" in result.output
            [acked] = [
                e
                for e in await AuditLog(runtime.hub.storage).entries()
                if e.action is AuditAction.ACKNOWLEDGE
            ]
            assert acked.actor_kind is ActorKind.COMMAND and acked.actor.startswith("command:")
            assert acked.target == f"alert {alert.id}" and "acknowledged by Maria" in acked.detail
            mark = heard.mark()
            await runtime.watch_dead_letters()
            steps["acknowledged"] = heard.since(mark)

            mark = heard.mark()
            clock.advance(60 * 60)
            await runtime.watch_dead_letters()
            steps["an hour after the acknowledgement"] = heard.since(mark)

            board.behaviour.pop("pos")
            await runtime.hub.deliveries.replay_flow(FLOW)
            await eventually(lambda: bool(board.delivered_to("pos")))
            mark = heard.mark()
            await runtime.watch_dead_letters()
            steps["replayed"] = heard.since(mark)

            [kept] = await runtime.hub.storage.read(lambda tx: alert_store.alert_history(tx, FLOW))
            assert kept.state is AlertState.RESOLVED and kept.acknowledged_by == "Maria"
            assert kept.escalated_at is not None

    asyncio.run(main())
    assert steps == {
        "fired": [("hook", "firing"), ("mail", "firing")],
        "ten minutes later": [("hook", "repeat"), ("mail", "repeat")],
        "twenty-six minutes later": [("hook", "repeat"), ("mail", "repeat"), ("slack", "escalation")],
        "acknowledged": [("hook", "acknowledged"), ("mail", "acknowledged"), ("slack", "acknowledged")],
        "an hour after the acknowledgement": [],
        "replayed": [("hook", "resolved"), ("mail", "resolved"), ("slack", "resolved")],
    }
    _the_first_mail_says_it_all(smtp_server.messages[0])
    _the_webhook_and_slack_say_it_too(http_receiver)


async def _dead(runtime: Runtime) -> bool:
    return bool(await runtime.hub.deliveries.dead_by_flow())


def _the_first_mail_says_it_all(mail: Message) -> None:
    assert mail["Subject"] == f"[Expediter] FIRING dead_letter: flow {FLOW}"
    assert mail["X-Rcpt"] == "gm@bistro.example"  # the flow's contact, reached through `contact`
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"Flow {FLOW} has 1 dead letter" in body
    assert "Owner: Maria Lopez (GM)" in body and "Contact: gm@bistro.example" in body
    assert "Impact: Online orders are cooked but missing from the POS: sales are understated." in body
    assert "At risk: 29.50 USD in 1 order of the last hour not in pos" in body
    assert f"Flow page: {PUBLIC}/flows/{FLOW}" in body
    assert "State: firing (since " in body
    assert "expediter alerts ack" in body


def _the_webhook_and_slack_say_it_too(receiver: HttpReceiver) -> None:
    hook = [body for path, _, body in receiver.requests if path == "/hooks/alerts"]
    assert hook[0]["kind"] == "dead_letter" and hook[0]["link"] == f"{PUBLIC}/flows/{FLOW}"
    assert hook[0]["at_risk"] == "29.50 USD in 1 order of the last hour not in pos"
    assert hook[0]["flow"]["owner"] == "Maria Lopez (GM)" and hook[0]["drill"] is False
    slack = [body for path, _, body in receiver.requests if path != "/hooks/alerts"]
    first = slack[0]
    assert first["text"].startswith(f"ESCALATED dead_letter: flow {FLOW}")
    assert [block["type"] for block in first["blocks"]] == ["header", "section", "section", "context"]
    fields = [field["text"] for field in first["blocks"][2]["fields"]]
    assert "*Owner*\nMaria Lopez (GM)" in fields
    assert "*At risk*\n29.50 USD in 1 order of the last hour not in pos" in fields
    assert f"<{PUBLIC}/flows/{FLOW}|Open the flow page>" in first["blocks"][3]["elements"][0]["text"]


def test_an_alert_a_channel_could_not_take_is_kept_with_the_error(
    tmp_path: Path, clock: ManualClock, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What each channel answered is kept with the alert (the flow page shows it; drills read it)."""
    monkeypatch.setenv("TEST_HOOK_URL", http_receiver.url)
    monkeypatch.setenv("TEST_SLACK_URL", http_receiver.url)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "not-used")
    http_receiver.status = 503
    down = SmtpServer("127.0.0.1", 1)
    declared = lifecycle_catalog(tmp_path, down, http_receiver)

    async def main() -> list[alert_store.Notification]:
        hub = Hub(declared, connectors=TEST_CONNECTORS)
        async with Runtime(declared, hub, schedule=False, watch=False) as runtime:
            await runtime.alerting.fire(AlertKind.FAILURE, "the POS refuses every order", clock.now(), FLOW)
            [alert] = await runtime.alerting.open_alerts()
            assert alert.id is not None
            ids = [alert.id]
            return await runtime.hub.storage.read(lambda tx: alert_store.notifications(tx, ids))

    told = asyncio.run(main())
    assert sorted((n.channel, n.event) for n in told) == [("hook", "firing"), ("owner-mail", "firing")]
    assert all(n.error for n in told)
    assert any("HTTP 503" in n.error for n in told) and any("SMTP 127.0.0.1:1" in n.error for n in told)
