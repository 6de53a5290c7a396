"""Invoices against purchase orders: each matching case, a credit memo settling a dispute, and a
duplicate invoice booked once (real SQLite store)."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import msgspec

from expediter.model.money import Money
from expediter.model.vendors import (
    AckLine,
    AckStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    ItemIds,
    POAcknowledgement,
    POLine,
    PurchaseOrder,
    money_of,
)
from expediter.operations.purchasing import (
    ExceptionKind,
    ExceptionState,
    InvoiceState,
    PurchasingStore,
    Resolution,
    VendorPolicy,
    Winner,
    bill_for,
    match_invoice,
)
from expediter.storage import open_storage

ORDER = PurchaseOrder(
    po_number="PO-1",
    order_date=date(2026, 3, 2),
    vendor="vendor",
    location_id="main",
    lines=[
        POLine(
            line_number="1",
            item=ItemIds(vendor_item="TOM25"),
            description="tomatoes",
            quantity=Decimal(4),
            unit="CA",
            unit_price=Decimal("28.45"),
            ingredient="tomato",
        ),
        POLine(
            line_number="2",
            item=ItemIds(vendor_item="BRISK"),
            description="brisket",
            quantity=Decimal(2),
            unit="CA",
            unit_price=Decimal("4.10"),
            ingredient="brisket",
        ),
        POLine(
            line_number="3",
            item=ItemIds(vendor_item="ONION"),
            description="onions",
            quantity=Decimal(1),
            unit="CA",
            unit_price=Decimal("19.00"),
            ingredient="onion",
        ),
    ],
)


def _line(number: str, item: str, qty: str, price: str, *, weight: str | None = None) -> InvoiceLine:
    billed = Decimal(weight) if weight else Decimal(qty)
    return InvoiceLine(
        line_number=number,
        item=ItemIds(vendor_item=item),
        description=item.lower(),
        quantity=Decimal(qty),
        unit="CA",
        unit_price=Decimal(price),
        amount=money_of(billed * Decimal(price)),
        catch_weight=Decimal(weight) if weight else None,
        price_unit="LB" if weight else "",
    )


EXACT_LINES = [
    _line("1", "TOM25", "4", "28.45"),
    _line("2", "BRISK", "2", "4.10", weight="61.3"),
    _line("3", "ONION", "1", "19.00"),
]


def _invoice(lines: list[InvoiceLine], number: str = "INV-0001", **kw: object) -> Invoice:
    return Invoice(
        invoice_number=number,
        invoice_date=date(2026, 3, 3),
        vendor="vendor",
        po_number="PO-1",
        lines=lines,
        **kw,
    )  # type: ignore[arg-type]


def _kinds(invoice: Invoice, **kw: object) -> list[ExceptionKind]:
    return [e.kind for e in match_invoice(invoice, ORDER, **kw).exceptions]  # type: ignore[arg-type]


def test_exact_invoice_with_catch_weight_line_matches_clean() -> None:
    result = match_invoice(_invoice(EXACT_LINES), ORDER)
    assert result.exceptions == []
    brisket = result.lines[1]
    assert brisket.catch_weight == Decimal("61.3") and brisket.amount == Money(25133)
    assert [line.ingredient for line in result.lines] == ["tomato", "brisket", "onion"]


def test_short_line_is_an_exception_and_bills_what_came() -> None:
    lines = [_line("1", "TOM25", "3", "28.45"), *EXACT_LINES[1:]]
    result = match_invoice(_invoice(lines), ORDER)
    assert [e.kind for e in result.exceptions] == [ExceptionKind.SHORT]
    assert result.lines[0].quantity == Decimal(3)


def test_price_change_is_worth_the_difference_times_quantity() -> None:
    lines = [_line("1", "TOM25", "4", "29.95"), *EXACT_LINES[1:]]
    result = match_invoice(_invoice(lines), ORDER)
    assert [e.kind for e in result.exceptions] == [ExceptionKind.PRICE]
    assert result.exceptions[0].amount == Money(600)
    assert _kinds(_invoice(lines), policy=VendorPolicy(price_tolerance=Decimal("1.50"))) == []


def test_catch_weight_price_change_counts_pounds() -> None:
    lines = [EXACT_LINES[0], _line("2", "BRISK", "2", "4.30", weight="60"), EXACT_LINES[2]]
    result = match_invoice(_invoice(lines), ORDER)
    assert [(e.kind, e.amount) for e in result.exceptions] == [(ExceptionKind.PRICE, Money(1200))]


def test_substitution_named_by_the_855() -> None:
    ack = POAcknowledgement(
        po_number="PO-1",
        ack_date=date(2026, 3, 2),
        status=AckStatus.CHANGED,
        code="AC",
        lines=[
            AckLine(
                line_number="3",
                status=AckStatus.SUBSTITUTED,
                code="IS",
                item=ItemIds(vendor_item="ONION"),
                substitute=ItemIds(vendor_item="ONION-RED"),
            )
        ],
    )
    lines = [*EXACT_LINES[:2], _line("3", "ONION-RED", "1", "19.00")]
    assert _kinds(_invoice(lines), ack=ack) == [ExceptionKind.SUBSTITUTION]
    without_ack = _kinds(_invoice(lines))
    assert without_ack == [ExceptionKind.UNORDERED, ExceptionKind.NOT_INVOICED]


def test_unordered_item_is_an_exception_worth_its_amount() -> None:
    lines = [*EXACT_LINES, _line("4", "LEMON", "2", "31.00")]
    result = match_invoice(_invoice(lines), ORDER)
    assert [(e.kind, e.amount) for e in result.exceptions] == [(ExceptionKind.UNORDERED, Money(6200))]


def test_receiver_count_wins_for_a_receiver_policy() -> None:
    policy = VendorPolicy(wins=Winner.RECEIVER)
    result = match_invoice(_invoice(EXACT_LINES), ORDER, policy, received={"1": Decimal(3)})
    assert [(e.kind, e.amount) for e in result.exceptions] == [(ExceptionKind.OVER, Money(2845))]
    assert result.lines[0].quantity == Decimal(3)
    assert match_invoice(_invoice(EXACT_LINES), ORDER, received={"1": Decimal(3)}).exceptions == []


def test_invoice_without_a_known_po_is_held() -> None:
    result = match_invoice(_invoice(EXACT_LINES), None)
    assert [e.kind for e in result.exceptions] == [ExceptionKind.NO_PO]


def test_bill_adds_up_to_what_the_vendor_says_is_owed() -> None:
    invoice = _invoice(EXACT_LINES, stated_total=Money(11380 + 25133 + 1900))
    bill = bill_for(invoice, match_invoice(invoice, ORDER), {"purchases": "5000", "accounts_payable": "2000"})
    assert bill.total() == invoice.amount_due() and bill.bill_number == "INV-0001"


def _run(database: str, scenario):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        storage = open_storage(database)
        await storage.start()
        try:
            return await scenario(PurchasingStore(storage))
        finally:
            await storage.stop()

    return asyncio.run(main())


def test_duplicate_invoice_is_stored_and_booked_once(database: str) -> None:
    async def scenario(store: PurchasingStore) -> None:
        await store.record_po(ORDER)
        assert await store.purchase_order("PO-1") == ORDER
        invoice = _invoice(EXACT_LINES)
        result = match_invoice(invoice, ORDER)
        first = await store.add_invoice(invoice, result)
        again = await store.add_invoice(invoice, result)
        assert not first.duplicate and again.duplicate and again.id == first.id
        bill = bill_for(invoice, result, {})
        assert await store.book(first.id, bill) is True
        assert await store.book(first.id, bill) is False
        assert [b.bill_number for b in await store.bills()] == ["INV-0001"]

    _run(database, scenario)


def test_credit_memo_settles_a_disputed_exception(database: str) -> None:
    async def scenario(store: PurchasingStore) -> None:
        lines = [_line("1", "TOM25", "4", "29.95"), *EXACT_LINES[1:]]
        invoice = _invoice(lines)
        stored = await store.add_invoice(invoice, match_invoice(invoice, ORDER))
        assert stored.state is InvoiceState.EXCEPTIONS
        (open_one,) = await store.exceptions()
        after = await store.resolve(open_one.id, Resolution.DISPUTE, "PO price was 28.45")
        assert after.state is InvoiceState.APPROVED
        memo = Invoice(
            invoice_number="CM-77",
            invoice_date=date(2026, 3, 5),
            vendor="vendor",
            kind=InvoiceKind.CREDIT_MEMO,
            original_invoice="INV-0001",
            lines=[msgspec.structs.replace(lines[0], amount=Money(600))],
        )
        settled = await store.settle_disputes(memo)
        assert settled == [open_one.id]
        (done,) = await store.exceptions([ExceptionState.SETTLED])
        assert done.resolution == "credit memo CM-77"
        assert await store.exceptions() == []

    _run(database, scenario)
