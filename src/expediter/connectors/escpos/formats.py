"""A print ticket → ESC/POS bytes (python-escpos builds them; we only send them).

Paper cannot strike through, so a void prints as ``VOID`` with the item, an add-on as ``ADD``.
Removals print in capitals (``NO ONIONS``) and bold, once ("No cheese" prints ``NO CHEESE``). The
promised time (``PICKUP 12:40``) prints under the opening time, both in the location's time zone.
The ticket id is on every slip so a reprint is recognisable at the pass.
"""

from __future__ import annotations

from decimal import Decimal

from escpos.printer import Dummy

from expediter.connectors.escpos.mapping import PrintTicket
from expediter.model.kitchen import TicketItem, TicketModifier, removal_name
from expediter.model.order import ModifierAction


def quantity_text(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


def item_line(item: TicketItem) -> str:
    mark = "VOID " if item.voided else "ADD " if item.added else ""
    text = f"{mark}{quantity_text(item.quantity)} x {item.name}"
    if item.component_of:
        text += f" (for {item.component_of})"
    if item.seat is not None:
        text += f" [seat {item.seat}]"
    return text


def modifier_line(mod: TicketModifier) -> str:
    indent = "   " * mod.depth
    if mod.action is ModifierAction.REMOVE:
        return f"{indent}NO {removal_name(mod.name).upper()}"
    qty = f"{quantity_text(mod.quantity)} " if mod.quantity != 1 else ""
    where = f" -> {mod.station.upper()}" if mod.station else ""
    prefix = "* " if mod.action is ModifierAction.NOTE else "+ "
    return f"{indent}{prefix}{qty}{mod.name}{where}"


def header_lines(ticket: PrintTicket) -> list[str]:
    lines = [
        f"Order {ticket.order_number}  {ticket.heading}",
        f"{ticket.dining_option.replace('_', ' ').upper()}  {ticket.guest}",
        f"Opened {ticket.opened_at:%H:%M}",
    ]
    if ticket.promised_at is not None:
        lines.append(f"PICKUP {ticket.promised_at:%H:%M}")
    return [*lines, f"Ticket {ticket.ticket_id}"]


def render(ticket: PrintTicket, width: int = 42) -> bytes:
    """The slip as ESC/POS bytes: station banner, header, items with indented modifiers, cut."""
    out = Dummy()
    out.set(align="center", bold=True, double_height=True, double_width=True)
    out.text(f"{ticket.station.upper()}\n")
    out.set(normal_textsize=True, align="left", bold=False)
    out.text("\n".join(header_lines(ticket)) + "\n")
    out.text("-" * width + "\n")
    course: int | None = None
    for item in ticket.items:
        if item.course is not None and item.course != course:
            course = item.course
            out.text(f"-- course {course} --\n")
        out.set(bold=True)
        out.text(item_line(item) + "\n")
        out.set(bold=False)
        for mod in item.modifiers:
            out.set(bold=mod.action is ModifierAction.REMOVE)
            out.text(modifier_line(mod) + "\n")
        if item.notes:
            out.set(bold=False)
            out.text(f"   * {item.notes}\n")
    out.set(bold=False)
    out.text("-" * width + "\n")
    out.cut()
    return bytes(out.output)
