"""Delivery payload → canonical order. Only ``orders`` are cooked; anything else is a routing mistake."""

from __future__ import annotations

import msgspec

from expediter.model.order import Order
from expediter.plugin import Outbound, TerminalError


def order_from(item: Outbound) -> Order:
    """The canonical order in ``item``; ``TerminalError`` when it is not one (retrying cannot help)."""
    if item.kind != "orders":
        raise TerminalError(
            f"the kds system takes 'orders' messages, not {item.kind!r}: check the flow's data"
        )
    try:
        return msgspec.json.decode(item.payload, type=Order)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise TerminalError(f"not a canonical order: {exc}") from exc
