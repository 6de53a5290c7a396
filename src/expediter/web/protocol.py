"""The HTTP protocol ``expediter serve`` runs: uvicorn's httptools protocol, each response in one write.

uvicorn writes a response's head (at ``http.response.start``) and its body separately: two system
calls and two TCP segments per response, and the client wakes up twice to read them. Here the
connection's transport collects what is written during one pass of the event loop and sends it in
one ``write`` at the end of the pass (measured on the ingest benchmark: see docs/engine.md). A
large body is sent as soon as :data:`SEND_AT` bytes wait, so the socket's back-pressure (uvicorn
waits while the transport's buffer is full) still holds for streamed responses.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

SEND_AT = 64 * 1024
"""Bytes waiting that are sent at once rather than at the end of the pass."""


class OneWriteTransport(asyncio.Transport):
    """A connection's transport whose writes made in one pass of the event loop leave together.

    Everything that can reorder or end the byte stream (``close``, ``write_eof``, a new protocol
    after a WebSocket upgrade) sends what is waiting first; ``abort`` drops it, as it drops the
    transport's own buffer."""

    __slots__ = ("_loop", "_size", "_transport", "_waiting")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._waiting: list[bytes] | None = None
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not isinstance(data, bytes):
            data = bytes(data)  # the caller may reuse its buffer before the end of the pass
        if self._waiting is None:
            self._waiting = [data]
            self._loop.call_soon(self.flush)
        else:
            self._waiting.append(data)
        self._size += len(data)
        if self._size >= SEND_AT:
            self.flush()

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Send what was written so far (called at the end of the pass that wrote it)."""
        waiting, self._waiting, self._size = self._waiting, None, 0
        if waiting and not self._transport.is_closing():
            self._transport.write(waiting[0] if len(waiting) == 1 else b"".join(waiting))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def abort(self) -> None:
        self._waiting, self._size = None, 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._size

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`OneWriteTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneWriteTransport(transport, self.loop))
