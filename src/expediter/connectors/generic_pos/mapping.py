"""The generic POS speaks the canonical model, so mapping is validation: what goes out must be a
canonical order, and what comes in is decoded as one (with msgspec's JSON path on errors)."""

from __future__ import annotations

import msgspec

from expediter.model.order import Order
from expediter.plugin import RejectedInput, TerminalError

_decode = msgspec.json.Decoder(Order).decode


def order_from_pos(body: bytes) -> Order:
    try:
        return _decode(body)
    except msgspec.DecodeError as exc:
        raise RejectedInput(str(exc), fix="send a canonical order (see /openapi.json)") from None


def order_to_pos(payload: bytes) -> bytes:
    """The body to POST: the stored canonical order, checked so a bad one is not retried forever."""
    try:
        _decode(payload)
    except msgspec.DecodeError as exc:
        raise TerminalError(f"the stored message is not a canonical order: {exc}") from None
    return payload
