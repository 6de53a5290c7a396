"""Property-based checks for what no fixture covers: any consistent online order maps to canonical
totals that agree with what the guest paid; any altered byte breaks either signature."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.connectors.online.mapping import check_totals, decode_online_order, order_from_online
from expediter.connectors.online.signature import signed_headers, verify_online_signature
from expediter.connectors.square.signature import SIGNATURE_HEADER, square_signature, verify_square_signature
from expediter.model.order import order_totals
from expediter.plugin.base import SignatureInvalid

modifiers = st.lists(
    st.fixed_dictionaries({"name": st.just("mod"), "qty": st.integers(1, 3), "price": st.integers(0, 500)}),
    max_size=3,
)
items = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.text(min_size=1, max_size=12),
            "plu": st.from_regex(r"[0-9]{3,5}", fullmatch=True),
            "qty": st.integers(1, 6),
            "price": st.integers(0, 5000),
            "modifiers": modifiers,
        }
    ),
    min_size=1,
    max_size=6,
)


def consistent_order(
    order_items: list[dict[str, Any]], tax: int, fee: int, tip: int, marketplace: bool
) -> dict[str, Any]:
    subtotal = sum(
        (i["price"] + sum(m["price"] * m["qty"] for m in i["modifiers"])) * i["qty"] for i in order_items
    )
    return {
        "external_id": "X-1",
        "location_id": "store",
        "placed_at": "2026-11-27T12:00:00Z",
        "items": order_items,
        "marketplace": "Uber Eats" if marketplace else None,
        "tax_collected_by_marketplace": marketplace,
        "tip": tip,
        "totals": {
            "subtotal": subtotal,
            "tax": tax,
            "delivery_fee": fee,
            "total": subtotal + tax + fee + tip,
        },
    }


@settings(max_examples=60, deadline=None)
@given(items, st.integers(0, 2000), st.integers(0, 900), st.integers(0, 2000), st.booleans())
def test_canonical_totals_match_what_the_guest_paid(
    order_items: list[dict[str, Any]], tax: int, fee: int, tip: int, marketplace: bool
) -> None:
    raw = consistent_order(order_items, tax, fee, tip, marketplace)
    online = decode_online_order(msgspec.json.encode(raw))
    check_totals(online)
    totals = order_totals(order_from_online(online, source_system="online", location_id="main"))
    assert totals.gross_sales.amount == raw["totals"]["subtotal"]
    assert totals.total.amount + totals.tips.amount == raw["totals"]["total"]
    assert totals.paid == totals.total


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.data())
def test_any_altered_byte_breaks_both_signatures(body: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(body) - 1))
    flipped = bytes([body[index] ^ data.draw(st.integers(1, 255))])
    altered = body[:index] + flipped + body[index + 1 :]
    headers = signed_headers("k", body, now=1000)
    with pytest.raises(SignatureInvalid):
        verify_online_signature(headers, altered, secret="k", window_seconds=300, now=1000)
    url = "https://hub.example.com/api/v1/webhooks/square"
    square_headers = {SIGNATURE_HEADER: square_signature("k", url, body)}
    with pytest.raises(SignatureInvalid):
        verify_square_signature(square_headers, altered, signature_key="k", notification_url=url)
