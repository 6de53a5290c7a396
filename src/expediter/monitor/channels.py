"""Alert channels: the hub's log, e-mail over SMTP, and a webhook (JSON POST).

A channel only sends; which alerts go where is :mod:`expediter.monitor.routes`. Errors follow
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
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import httpx
import msgspec
import structlog

from expediter.catalog.schema import AlertChannel, Flow
from expediter.catalog.secrets import resolve_secret
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


class Channel(Protocol):
    id: str

    async def send(self, alert: Alert, flow: Flow | None) -> None:
        """Tell someone; raise ``TransientError`` / ``TerminalError`` when it could not be sent."""
        ...


def alert_subject(alert: Alert) -> str:
    where = f"flow {alert.flow_id}" if alert.flow_id else "the hub"
    place = f" at {alert.location_id}" if alert.location_id else ""
    return f"[Expediter] {alert.state.upper()} {alert.kind}: {where}{place}"


def alert_body(alert: Alert, flow: Flow | None) -> str:
    """Plain words for the person who will fix it: what, since when, who owns it, what it breaks."""
    lines = [alert.message, "", f"State: {alert.state} (since {alert.started_at.isoformat()})"]
    if alert.count > 1:
        lines.append(f"Seen {alert.count} times.")
    if flow is not None:
        lines += [f"Flow: {flow.id} ({flow.from_} → {flow.to}, {flow.data}, {flow.level})"]
        lines += [f"Owner: {flow.owner}"]
        if flow.impact and alert.state == AlertState.FIRING:
            lines += [f"Impact: {flow.impact}"]
    return "\n".join(lines)


def alert_document(alert: Alert, flow: Flow | None) -> dict[str, Any]:
    """The JSON a webhook channel posts."""
    document: dict[str, Any] = msgspec.to_builtins(alert)
    document["subject"] = alert_subject(alert)
    if flow is not None:
        document["flow"] = {
            "id": flow.id,
            "owner": flow.owner,
            "impact": flow.impact,
            "from": flow.from_,
            "to": flow.to,
        }
    return document


class LogChannel:
    def __init__(self, channel_id: str = "log") -> None:
        self.id = channel_id

    async def send(self, alert: Alert, flow: Flow | None) -> None:
        emit = log.warning if alert.state == AlertState.FIRING else log.info
        emit(
            "alert",
            state=str(alert.state),
            kind=str(alert.kind),
            rule=alert.rule_id,
            flow=alert.flow_id,
            location=alert.location_id,
            owner=flow.owner if flow else None,
            message=alert.message,
            count=alert.count,
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


class EmailChannel:
    """SMTP through the standard library, in a worker thread so the event loop never blocks."""

    def __init__(self, channel_id: str, to: list[str], settings: EmailSettings, password: str = "") -> None:
        self.id = channel_id
        self.to = to
        self.settings = settings
        self._password = password

    async def send(self, alert: Alert, flow: Flow | None) -> None:
        message = EmailMessage()
        message["Subject"] = alert_subject(alert)
        message["From"] = self.settings.sender
        message["To"] = ", ".join(self.to)
        message.set_content(alert_body(alert, flow))
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
        self, channel_id: str, url: str, client: httpx.AsyncClient | None = None, timeout: float = 10.0
    ) -> None:
        self.id = channel_id
        self.url = url
        self.shown_url = redacted_url(url)
        """What messages say instead of ``url`` (see the module docstring)."""
        _WEBHOOK_URLS.hide(url)
        self._client = client
        self._timeout = timeout

    async def send(self, alert: Alert, flow: Flow | None) -> None:
        body = msgspec.json.encode(alert_document(alert, flow))
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
    if channel.kind == "webhook":
        return WebhookChannel(channel.id, channel.target, client=client)
    if channel.kind == "email":
        try:
            settings = msgspec.convert(channel.settings, EmailSettings)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"alert channel {channel.id}: settings: {exc}") from None
        password = resolve_secret(settings.password, base_dir) if settings.password else ""
        recipients = [part.strip() for part in channel.target.split(",") if part.strip()]
        return EmailChannel(channel.id, recipients, settings, password)
    raise ConfigError(f"alert channel {channel.id}: unknown kind {channel.kind!r}; use log, email or webhook")
