"""A real SMTP server (aiosmtpd) and a real HTTP receiver on loopback, each in its own thread."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

SMTP_USER = "alerts@example.com"
SMTP_PASSWORD = "smtp-password-from-env"


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"")
        message["X-Rcpt"] = ", ".join(envelope.rcpt_tos)
        self.server.messages.append(message)
        return "250 OK"


def _authenticator(server: SmtpServer) -> Any:
    def check(smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login.decode() == SMTP_USER
        ok = ok and data.password.decode() == SMTP_PASSWORD
        if ok:
            server.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

    return check


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1, a free port; AUTH PLAIN accepted without TLS (loopback only)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        record = SmtpServer("127.0.0.1", 0)

        def factory() -> SMTP:
            return SMTP(
                _Handler(record),
                hostname="localhost",
                authenticator=_authenticator(record),
                auth_require_tls=False,
                # PLAIN only: after a refusal smtplib would try LOGIN as well, a second failed attempt.
                auth_exclude_mechanism=["LOGIN"],
            )

        server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", 0))
        record.port = server.sockets[0].getsockname()[1]
        holder.update(server=server, record=record)
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=run, name="smtp-test-server", daemon=True)
    thread.start()
    ready.wait(10)
    yield holder["record"]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@dataclass
class HttpReceiver:
    url: str
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    status: int = 204


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A plain HTTP server on loopback that records each POST (path, headers, JSON body)."""
    receiver = HttpReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            receiver.requests.append((self.path, dict(self.headers), json.loads(body)))
            self.send_response(receiver.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
    thread = threading.Thread(target=server.serve_forever, name="http-receiver", daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(10)
