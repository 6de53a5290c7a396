"""Send bytes to a printer's raw TCP port (9100), with a timeout; failures are transient."""

from __future__ import annotations

import asyncio

from expediter.plugin import TransientError


async def send(host: str, port: int, data: bytes, timeout: float) -> None:
    """Write ``data`` and close; a refused, unreachable or slow printer raises ``TransientError``."""
    try:
        await asyncio.wait_for(_write(host, port, data), timeout)
    except TimeoutError as exc:
        raise TransientError(f"printer {host}:{port} did not answer within {timeout:g}s") from exc
    except OSError as exc:
        raise TransientError(f"printer {host}:{port} unreachable: {exc.strerror or exc}") from exc


async def _write(host: str, port: int, data: bytes) -> None:
    _reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(data)
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    finally:
        writer.close()
        await writer.wait_closed()
