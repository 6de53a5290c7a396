"""A virtual kitchen printer: a raw TCP (9100-style) listener that turns ESC/POS back into text.

Used by the demo (its dashboard shows what "printed") and by tests (the printer sink's bytes decode
back to the ticket text). It understands the commands python-escpos emits — init, alignment, bold,
character size, print mode, code page, feed and cut — and drops them; everything between two cuts
is one ticket.

Run one by hand: ``python -m expediter.sim.printer --port 9100 --file printed.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import datetime
from pathlib import Path

import msgspec

from expediter.model import clock

ESC, GS, FS = 0x1B, 0x1D, 0x1C
_NO_ARGUMENT = {ESC: {0x40, 0x32, 0x3C}, GS: set(), FS: {0x2E, 0x26}}
"""ESC @ (init), ESC 2 (default spacing), ESC < (home); FS . and FS & (kanji off / on)."""
_TWO_ARGUMENTS = {ESC: {0x24, 0x5C}, GS: {0x4C, 0x57, 0x24}, FS: set()}
"""ESC $ / ESC \\ (positions), GS L (left margin), GS W (print width), GS $ (vertical position)."""


class PrintedTicket(msgspec.Struct, kw_only=True):
    text: str
    received_at: datetime
    peer: str = ""


def _argument_count(prefix: int, command: int, data: bytes, at: int) -> int:
    """How many bytes follow ``prefix command`` as its arguments."""
    if command in _NO_ARGUMENT[prefix]:
        return 0
    if command in _TWO_ARGUMENTS[prefix]:
        return 2
    if prefix == ESC and command == 0x70:  # ESC p m t1 t2: kick the cash drawer
        return 3
    if prefix == GS and command == 0x56:  # GS V m [n]: cut, with a feed amount for m = 65/66
        mode = data[at] if at < len(data) else 0
        return 2 if mode in (0x41, 0x42) else 1
    if prefix == GS and command == 0x28 and at + 2 < len(data):  # GS ( fn pL pH data...
        return 3 + data[at + 1] + data[at + 2] * 256
    return 1


def decode(data: bytes) -> list[str]:
    """ESC/POS bytes → ticket texts (one per cut; trailing text without a cut is a ticket too)."""
    tickets: list[str] = []
    text = bytearray()
    at = 0
    while at < len(data):
        byte = data[at]
        if byte in (ESC, GS, FS) and at + 1 < len(data):
            command = data[at + 1]
            count = _argument_count(byte, command, data, at + 2)
            if byte == GS and command == 0x56:
                tickets.append(_finish(text))
                text = bytearray()
            at += 2 + count
            continue
        if byte == 0x0A or byte >= 0x20:
            text.append(byte)
        elif byte == 0x09:
            text.append(0x20)
        at += 1
    if text.strip():
        tickets.append(_finish(text))
    return tickets


def _finish(text: bytearray) -> str:
    lines = text.decode("cp437").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


class VirtualPrinter:
    """An asyncio TCP server on loopback that keeps every ticket it decodes, in arrival order."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.tickets: list[PrintedTicket] = []
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()

    async def start(self) -> VirtualPrinter:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> VirtualPrinter:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        try:
            data = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        await self._keep([PrintedTicket(text=t, received_at=clock.now(), peer=peer) for t in decode(data)])

    async def _keep(self, printed: list[PrintedTicket]) -> None:
        if self.path is not None and printed:
            with self.path.open("a", encoding="utf-8") as handle:
                for ticket in printed:
                    handle.write(f"=== {ticket.received_at.isoformat()}\n{ticket.text}\n")
        async with self._changed:
            self.tickets.extend(printed)
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout: float | None = 10.0) -> list[PrintedTicket]:
        """The first ``count`` tickets, once that many have arrived (``TimeoutError`` otherwise)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.tickets) >= count), timeout)
            return self.tickets[:count]


async def _serve(host: str, port: int, path: Path | None) -> None:
    printer = await VirtualPrinter(host, port, path).start()
    print(f"virtual kitchen printer on {host}:{printer.port}", flush=True)
    seen = 0
    while True:
        await printer.wait_for(seen + 1, timeout=None)
        for ticket in printer.tickets[seen:]:
            print(ticket.text + "\n", flush=True)
        seen = len(printer.tickets)


def main() -> None:
    parser = argparse.ArgumentParser(description="A virtual ESC/POS kitchen printer on raw TCP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--file", type=Path, default=None, help="append every ticket to this file")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.file))


if __name__ == "__main__":
    main()
