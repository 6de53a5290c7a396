"""The HTTP protocol ``expediter serve`` runs: each response leaves in one write, nothing is lost.

A real uvicorn server on loopback with :class:`HttpProtocol`; the only addition is a recorder under
the connection's transport that keeps what is handed to the socket, write by write."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest
import uvicorn

from expediter.web.protocol import SEND_AT, HttpProtocol

CHUNK = 16 * 1024
LARGE = 64  # chunks: a 1 MiB body


class RecordedTransport:
    """The socket's transport, with each ``write`` kept (everything else passes through)."""

    def __init__(self, transport: asyncio.Transport, writes: list[bytes]) -> None:
        self._transport = transport
        self._writes = writes

    def write(self, data: bytes) -> None:
        self._writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class RecordedProtocol(HttpProtocol):
    writes: ClassVar[list[bytes]] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(RecordedTransport(transport, self.writes))  # type: ignore[arg-type]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    if scope["path"] == "/stream":  # a body in two parts, with a pass of the loop between them
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"first part, ", "more_body": True})
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"second part"})
        return
    if scope["path"] == "/large":  # streamed without a pause: nothing else gets the loop meanwhile
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        for number in range(LARGE):
            await send(
                {"type": "http.response.body", "body": bytes([65 + number % 26]) * CHUNK, "more_body": True}
            )
        await send({"type": "http.response.body", "body": b""})
        return
    body = b'{"ok": true}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def server() -> Iterator[str]:
    """The server in its own thread, on a socket that listens before it starts: a client may
    connect at once (the kernel queues the connection until uvicorn accepts it)."""
    RecordedProtocol.writes = []
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=RecordedProtocol, log_level="warning", lifespan="off")
    live = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: loop.run_until_complete(live.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        live.should_exit = True
        thread.join(10)
        loop.close()
        sock.close()


def test_a_response_leaves_in_one_write(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        for _ in range(3):  # on one kept-alive connection
            response = client.post("/api/v1/orders", content=b"{}")
            assert response.status_code == 202 and response.json() == {"ok": True}
    assert len(RecordedProtocol.writes) == 3
    for write in RecordedProtocol.writes:
        assert write.startswith(b"HTTP/1.1 202 ") and write.endswith(b'\r\n\r\n{"ok": true}')


def test_a_body_sent_in_parts_arrives_whole_and_in_order(server: str) -> None:
    response = httpx.get(f"{server}/stream")
    assert response.text == "first part, second part"
    assert b"".join(RecordedProtocol.writes).startswith(b"HTTP/1.1 200 ")


def test_a_large_body_is_not_held_back_to_the_end_of_the_pass(server: str) -> None:
    """uvicorn waits for the socket only when the transport says its buffer is full: a body held
    back whole would never let it, and would sit in memory however large it grew."""
    response = httpx.get(f"{server}/large")
    assert response.content == b"".join(bytes([65 + n % 26]) * CHUNK for n in range(LARGE))
    assert len(RecordedProtocol.writes) >= LARGE * CHUNK // (SEND_AT + CHUNK)
    assert max(len(write) for write in RecordedProtocol.writes) < SEND_AT + CHUNK + 1024


def test_closing_the_connection_sends_what_was_written_first(server: str) -> None:
    """``Connection: close``: uvicorn closes the transport right after the body; the response must
    go out before the close, not be dropped with it."""
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):  # until the server closes the connection
            received += chunk
    assert received.startswith(b"HTTP/1.1 202 ") and received.endswith(b'{"ok": true}')
