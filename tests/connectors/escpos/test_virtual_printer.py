"""The virtual printer decodes what python-escpos emits back into plain ticket text."""

import asyncio
from pathlib import Path

from escpos.printer import Dummy

from expediter.connectors.escpos.client import send
from expediter.sim.printer import VirtualPrinter, decode


def slip(*lines: str) -> bytes:
    out = Dummy()
    out.set(align="center", bold=True, double_height=True, double_width=True)
    out.text(lines[0] + "\n")
    out.set(normal_textsize=True, align="left", bold=False, underline=1)
    out.text("\n".join(lines[1:]) + "\n")
    out.cut()
    return bytes(out.output)


def test_commands_are_dropped_and_each_cut_ends_a_ticket() -> None:
    data = slip("GRILL", "1 x Burger", "\tNO ONIONS") + slip("FRY", "2 x Fries")
    assert decode(data) == ["GRILL\n1 x Burger\n NO ONIONS", "FRY\n2 x Fries"]


def test_text_without_a_cut_is_still_a_ticket_and_partial_cut_with_feed_is_understood() -> None:
    assert decode(b"\x1b@hello\n\x1dVA\x03after\n") == ["hello", "after"]


def test_tickets_arrive_over_tcp_in_order_and_are_appended_to_a_file(tmp_path: Path) -> None:
    path = tmp_path / "printed.txt"

    async def scenario() -> list[str]:
        async with VirtualPrinter(path=path) as printer:
            await send("127.0.0.1", printer.port, slip("BAR", "1 x Cola"), timeout=5)
            await send("127.0.0.1", printer.port, slip("BAR", "1 x Beer"), timeout=5)
            return [t.text for t in await printer.wait_for(2)]

    assert asyncio.run(scenario()) == ["BAR\n1 x Cola", "BAR\n1 x Beer"]
    assert path.read_text().count("=== ") == 2
    assert "1 x Beer" in path.read_text()
