"""850 written → read back as the same purchase order; 997s for what was received."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from expediter.formats.x12 import (
    Envelope,
    InMemoryControlNumbers,
    functional_ack,
    interchange,
    next_control_number,
    po_transaction,
    read_documents,
)
from expediter.formats.x12.control import clock_floor
from expediter.model import clock as hub_clock
from expediter.model.vendors import ItemIds, Party, POLine, PurchaseOrder

ORDER = PurchaseOrder(
    po_number="PO-main-20260302-001",
    order_date=date(2026, 3, 2),
    vendor="SYSCO01",
    location_id="main",
    requested_delivery=date(2026, 3, 4),
    ship_to=Party(role="ST", name="Main Street Bistro", id_qualifier="92", id="main", address=["1 Main St"]),
    vendor_party=Party(role="VN", name="Broadline Foods", id_qualifier="92", id="SYSCO01"),
    notes=["deliver to the back door"],
    lines=[
        POLine(
            line_number="1",
            item=ItemIds(vendor_item="4471233", upc="00074865001234", buyer_item="tomato"),
            description="TOMATO ROMA 25LB",
            quantity=Decimal(3),
            unit="CA",
            unit_price=Decimal("28.45"),
            ingredient="tomato",
            pack=Decimal(1),
            size=Decimal(25),
            size_unit="LB",
        ),
        POLine(
            line_number="2",
            item=ItemIds(vendor_item="1002*3~x", buyer_item="brisket"),
            description="BEEF BRISKET CHOICE",
            quantity=Decimal("2.5"),
            unit="CA",
            unit_price=Decimal("4.1299"),
            ingredient="brisket",
        ),
    ],
)
ENVELOPE = Envelope(sender_id="BISTRO", receiver_id="SYSCO01")


def test_850_round_trip_gives_the_same_purchase_order() -> None:
    text, number = interchange(
        ENVELOPE, "PO", [po_transaction(ORDER)], InMemoryControlNumbers(), hub_clock.now()
    )
    read = read_documents(text)
    assert read.problems == []
    back = read.documents[0].purchase_order
    expected_line = ORDER.lines[1].item.vendor_item.replace("*", " ").replace("~", " ")
    assert back is not None
    assert back.lines[1].item.vendor_item == expected_line
    fixed = ORDER.lines[1].__class__(
        **{
            **{f: getattr(ORDER.lines[1], f) for f in ORDER.lines[1].__struct_fields__},
            "item": ItemIds(vendor_item=expected_line, buyer_item="brisket"),
        }
    )
    assert back == PurchaseOrder(
        **{**{f: getattr(ORDER, f) for f in ORDER.__struct_fields__}, "lines": [ORDER.lines[0], fixed]}
    )
    isa = text.split("~")[0]
    assert len(isa) == 105 and isa[3] == "*" and text[105] == "~"
    assert read.file.interchanges[0].control == f"{number:09d}"


def test_control_numbers_never_repeat_and_survive_an_old_counter() -> None:
    numbers = InMemoryControlNumbers()
    seen = {numbers.allocate("ZZ:SYSCO01") for _ in range(50)}
    assert len(seen) == 50
    now = hub_clock.now()
    restored_counter = 5  # a database restored from a backup taken long ago
    assert next_control_number(restored_counter, now) >= clock_floor(now) > max(seen) - 50
    assert next_control_number(clock_floor(now) + 10, now) == clock_floor(now) + 11
    later = now + timedelta(seconds=100)
    assert next_control_number(clock_floor(now), later) == clock_floor(later)


def test_997_accepts_a_clean_group_and_rejects_a_bad_transaction() -> None:
    good, _ = interchange(ENVELOPE, "PO", [po_transaction(ORDER)], InMemoryControlNumbers(), hub_clock.now())
    bad = good.replace("PO1*1*3*CA", "PO1*1*THREE*CA")
    for text, expected in ((good, "A"), (bad, "R")):
        received = read_documents(text)
        ack = functional_ack(received.file.interchanges[0], InMemoryControlNumbers(), hub_clock.now())
        read = read_documents(ack)
        assert read.problems == []
        groups = read.documents[0].functional_ack
        assert groups is not None and groups[0].status == expected
        assert groups[0].sets[0].status == expected
        if expected == "R":
            assert "AK3*PO1*" in ack and "AK4*2**7" in ack
        assert read.file.interchanges[0].receiver == "BISTRO"
