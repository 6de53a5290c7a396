"""Alert channels: the hub's log, e-mail over SMTP, a webhook (JSON POST) and a Slack-compatible
incoming webhook (Slack's ``text`` and ``blocks``).

A channel only sends a :class:`Notice` (an alert, what happened to it, the flow, its owner and the
link to the flow page); which alerts go where, and when again, is :mod:`expediter.monitor.routes`.
Errors follow
:mod:`expediter.errors` (a mail server that is down is transient, refused credentials terminal) and
never contain a password.

A webhook's URL is a credential more often than not (a chat service's incoming-webhook URL lets
anyone post to the channel), so it is never logged or put in an error: messages name its scheme and
host only (``https://hooks.example.com/…``), and the line httpx logs for each request is rewritten
the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import httpx
import msgspec
import structlog

from expediter.catalog.contacts import is_email_address
from expediter.catalog.schema import AlertChannel, Flow
from expediter.catalog.secrets import is_reference, resolve_secret
from expediter.errors import ConfigError, TerminalError, TransientError, error_for_status
from expediter.monitor.alerts import Alert, AlertState

log = structlog.get_logger("expediter.alerts")


def redacted_url(url: str) -> str:
    """``https://hooks.example.com/…``: where a webhook goes, without the path or query that make
    it a credential."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "(a webhook URL)"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}/…"


class _HideWebhookUrls(logging.Filter):
    """Rewrites log records that hold a webhook channel's URL (httpx logs each request's URL at
    INFO) so the URL's secret part never reaches a log."""

    def __init__(self) -> None:
        super().__init__()
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def hide(self, url: str) -> None:
        """Hide ``url`` as given and as httpx writes it (host lower-cased, path percent-encoded)."""
        shown = redacted_url(url)
        with self._lock:
            self._urls[url] = shown
            with contextlib.suppress(httpx.InvalidURL, TypeError):
                self._urls[str(httpx.URL(url))] = shown

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._urls:
            return True
        message = record.getMessage()
        hidden = message
        for url, shown in list(self._urls.items()):
            hidden = hidden.replace(url, shown)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


_WEBHOOK_URLS = _HideWebhookUrls()
logging.getLogger("httpx").addFilter(_WEBHOOK_URLS)


class NoticeEvent(StrEnum):
    """Why a channel hears about an alert."""

    FIRING = "firing"
    REPEAT = "repeat"
    """Still firing and nobody acknowledged it (every route's ``repeat_minutes``)."""
    ESCALATION = "escalation"
    """Nobody acknowledged it in time: the route's second contact hears it."""
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


_SUBJECT_WORDS = {
    NoticeEvent.FIRING: "FIRING",
    NoticeEvent.REPEAT: "STILL FIRING",
    NoticeEvent.ESCALATION: "ESCALATED",
    NoticeEvent.ACKNOWLEDGED: "ACKNOWLEDGED",
    NoticeEvent.RESOLVED: "RESOLVED",
}


@dataclass(frozen=True)
class Notice:
    """What a channel sends: the alert, why now, and what a person needs to act on it."""

    alert: Alert
    flow: Flow | None
    event: NoticeEvent = NoticeEvent.FIRING
    link: str = ""
    """The flow page (``hub.public_url`` + ``/flows/<id>``); empty when the alert names no flow."""
    owner: str = ""
    contact: str = ""
    drill: bool = False
    """Raised by ``expediter drill``: nothing real broke."""

    @classmethod
    def of(cls, alert: Alert, flow: Flow | None, event: NoticeEvent | None = None, **extra: Any) -> Notice:
        if event is None:
            event = NoticeEvent.RESOLVED if alert.state is AlertState.RESOLVED else NoticeEvent.FIRING
        owner = extra.pop("owner", flow.owner if flow else "")
        contact = extra.pop("contact", flow.contact if flow else "")
        return cls(alert=alert, flow=flow, event=event, owner=owner, contact=contact, **extra)


class Channel(Protocol):
    id: str

    async def send(self, notice: Notice) -> None:
        """Tell someone; raise ``TransientError`` / ``TerminalError`` when it could not be sent."""
        ...


def alert_subject(notice: Notice) -> str:
    alert = notice.alert
    where = f"flow {alert.flow_id}" if alert.flow_id else "the hub"
    place = f" at {alert.location_id}" if alert.location_id else ""
    part = f" ({alert.subject})" if alert.subject else ""
    drill = "DRILL " if notice.drill else ""
    return f"[Expediter] {drill}{_SUBJECT_WORDS[notice.event]} {alert.kind}: {where}{place}{part}"


def notice_facts(notice: Notice) -> list[tuple[str, str]]:
    """The labelled lines every channel shows: the flow, its owner, since when, the impact, the
    money at risk, who acknowledged it, where to act."""
    alert, flow = notice.alert, notice.flow
    facts: list[tuple[str, str]] = []
    if flow is not None:
        facts.append(("Flow", f"{flow.id} ({flow.from_} → {flow.to}, {flow.data}, {flow.level})"))
    if notice.owner:
        facts.append(("Owner", notice.owner))
    if notice.contact:
        facts.append(("Contact", notice.contact))
    facts.append(("State", f"{alert.state} (since {alert.started_at.isoformat(timespec='seconds')})"))
    if alert.count > 1:
        facts.append(("Seen", f"{alert.count} times"))
    if flow is not None and flow.impact and alert.state is not AlertState.RESOLVED:
        facts.append(("Impact", flow.impact))
    if alert.at_risk and alert.state is not AlertState.RESOLVED:
        facts.append(("At risk", alert.at_risk))
    if alert.acknowledged_by:
        facts.append(("Acknowledged by", alert.acknowledged_by))
    if notice.link:
        facts.append(("Flow page", notice.link))
    if alert.id is not None and alert.state is AlertState.FIRING:
        facts.append(("Acknowledge", f"on the flow page, or `expediter alerts ack {alert.id}`"))
    return facts


def alert_body(notice: Notice) -> str:
    """Plain words for the person who will fix it: what, since when, who owns it, what it breaks."""
    lead = "This is a drill: nothing real broke. " if notice.drill else ""
    lines = [lead + notice.alert.message, ""]
    lines += [f"{label}: {value}" for label, value in notice_facts(notice)]
    return "\n".join(lines)


def alert_document(notice: Notice) -> dict[str, Any]:
    """The JSON a webhook channel posts."""
    alert, flow = notice.alert, notice.flow
    document: dict[str, Any] = msgspec.to_builtins(alert)
    document["subject"] = alert_subject(notice)
    document["event"] = str(notice.event)
    document["link"] = notice.link
    document["drill"] = notice.drill
    if flow is not None:
        document["flow"] = {
            "id": flow.id,
            "owner": notice.owner,
            "contact": notice.contact,
            "impact": flow.impact,
            "from": flow.from_,
            "to": flow.to,
        }
    return document


def _slack_escape(text: str) -> str:
    """Slack reads ``&``, ``<`` and ``>`` as markup; everything else is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_document(notice: Notice) -> dict[str, Any]:
    """Slack's incoming-webhook message: ``text`` (the notification's fallback) and ``blocks``."""
    subject = alert_subject(notice).removeprefix("[Expediter] ")
    message = ("This is a drill: nothing real broke. " if notice.drill else "") + notice.alert.message
    fields = [
        {"type": "mrkdwn", "text": f"*{label}*\n{_slack_escape(value)}"[:2000]}
        for label, value in notice_facts(notice)
        if label not in ("Flow page", "Acknowledge")
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(message)[:3000]}},
        {"type": "section", "fields": fields[:10]},
    ]
    if notice.link:
        ack = f" · acknowledge with `expediter alerts ack {notice.alert.id}`" if notice.alert.id else ""
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{notice.link}|Open the flow page>{ack}"}],
            }
        )
    return {"text": _slack_escape(f"{subject}: {message}")[:3000], "blocks": blocks}


class LogChannel:
    def __init__(self, channel_id: str = "log") -> None:
        self.id = channel_id

    async def send(self, notice: Notice) -> None:
        alert = notice.alert
        emit = log.warning if alert.state == AlertState.FIRING else log.info
        emit(
            "alert",
            notice=str(notice.event),
            state=str(alert.state),
            kind=str(alert.kind),
            rule=alert.rule_id,
            alert_id=alert.id,
            flow=alert.flow_id,
            location=alert.location_id,
            subject=alert.subject,
            owner=notice.owner or None,
            message=alert.message,
            count=alert.count,
            at_risk=alert.at_risk or None,
            link=notice.link or None,
            drill=notice.drill,
        )


class EmailSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename={"sender": "from"}):
    host: str
    port: int = 25
    sender: str = "expediter@localhost"
    username: str = ""
    password: str = ""
    """A secret reference (``env:NAME`` / ``file:PATH``)."""
    starttls: bool = False
    ssl: bool = False
    timeout_seconds: float = 15.0


CONTACT_RECIPIENT = "contact"
"""In an e-mail channel's ``target``: the alerting flow's ``contact``, when it is an address."""


class EmailChannel:
    """SMTP through the standard library, in a worker thread so the event loop never blocks."""

    def __init__(self, channel_id: str, to: list[str], settings: EmailSettings, password: str = "") -> None:
        self.id = channel_id
        self.to = to
        self.settings = settings
        self._password = password

    def recipients(self, notice: Notice) -> list[str]:
        """The target's addresses, ``contact`` replaced by the flow's contact address."""
        found: list[str] = []
        for entry in self.to:
            address = notice.contact if entry == CONTACT_RECIPIENT else entry
            if is_email_address(address) and address not in found:
                found.append(address)
        return found

    async def send(self, notice: Notice) -> None:
        recipients = self.recipients(notice)
        if not recipients:
            raise TerminalError(
                f"alert channel {self.id}: no recipient (the flow's contact {notice.contact!r} is not"
                " an e-mail address)"
            )
        message = EmailMessage()
        message["Subject"] = alert_subject(notice)
        message["From"] = self.settings.sender
        message["To"] = ", ".join(recipients)
        message.set_content(alert_body(notice))
        await asyncio.to_thread(self._send_blocking, message)

    def _send_blocking(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            smtp_type = smtplib.SMTP_SSL if s.ssl else smtplib.SMTP
            with smtp_type(s.host, s.port, timeout=s.timeout_seconds) as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, self._password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise TerminalError(
                f"alert channel {self.id}: SMTP {s.host}:{s.port} refused the login ({exc.smtp_code})"
            ) from None
        except smtplib.SMTPRecipientsRefused:
            raise TerminalError(
                f"alert channel {self.id}: SMTP {s.host}:{s.port} refused the recipients {self.to}"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(
                f"alert channel {self.id}: SMTP {s.host}:{s.port}: {type(exc).__name__}: {exc}"
            ) from None


class WebhookChannel:
    """POSTs the alert as JSON; a 5xx or a refused connection is transient."""

    def __init__(
        self,
        channel_id: str,
        url: str,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        *,
        slack: bool = False,
    ) -> None:
        self.id = channel_id
        self.url = url
        self.shown_url = redacted_url(url)
        """What messages say instead of ``url`` (see the module docstring)."""
        _WEBHOOK_URLS.hide(url)
        self._client = client
        self._timeout = timeout
        self._document = slack_document if slack else alert_document

    async def send(self, notice: Notice) -> None:
        body = msgspec.json.encode(self._document(notice))
        headers = {"content-type": "application/json", "user-agent": "expediter-alerts"}
        try:
            if self._client is not None:
                response = await self._client.post(
                    self.url, content=body, headers=headers, timeout=self._timeout
                )
            else:
                async with httpx.AsyncClient() as client:
                    response = await client.post(
                        self.url, content=body, headers=headers, timeout=self._timeout
                    )
        except httpx.HTTPError as exc:
            raise TransientError(f"alert channel {self.id}: {self.shown_url}: {type(exc).__name__}") from None
        error = error_for_status(
            response.status_code,
            f"alert channel {self.id}: {self.shown_url}",
            location=response.headers.get("location"),
        )
        if error is not None:
            raise error


def build_channel(
    channel: AlertChannel, base_dir: Path | None = None, client: httpx.AsyncClient | None = None
) -> Channel:
    """The channel declared by ``[[alert_channels]]``.

    Secrets are resolved now, so a missing one fails at start rather than when the first alert fires.
    """
    if channel.kind == "log":
        return LogChannel(channel.id)
    if channel.kind in ("webhook", "slack"):
        url = channel.target
        if is_reference(url):
            url = resolve_secret(url, base_dir, setting=f"alert_channels[{channel.id}].target")
        return WebhookChannel(channel.id, url, client=client, slack=channel.kind == "slack")
    if channel.kind == "email":
        try:
            settings = msgspec.convert(channel.settings, EmailSettings)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"alert channel {channel.id}: settings: {exc}") from None
        password = resolve_secret(settings.password, base_dir) if settings.password else ""
        recipients = [part.strip() for part in channel.target.split(",") if part.strip()]
        return EmailChannel(channel.id, recipients, settings, password)
    raise ConfigError(
        f"alert channel {channel.id}: unknown kind {channel.kind!r}; use log, email, webhook or slack"
    )
