"""A refund reverses the sales tax it refunded: Sales Tax Payable goes down with the refund.

Worked by hand (cents): a check of 2000 + 8.875 % tax 178 = 2178, paid by card.
- refunded in full (2178): tax given back 178, refunds (contra-revenue) 2000;
- refunded 1089 (half): tax 1089 × 178 / 2178 = 89, refunds 1000; a second refund of the other
  1089 gives back the other 89: the whole check gives back exactly the 178 it collected;
- a DoorDash check whose tax DoorDash remits (marketplace facilitator) gives back no tax: the
  restaurant never owed it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.model.money import Money
from expediter.model.order import Line, Order, OrderState, Payment, Refund, Tax, TenderType
from expediter.operations.accounting.journal import JournalEntry, build_journal, payable_tax, refunded_tax
from tests.operations.accounting.worked_day import MAPPINGS

DAY = date(2026, 11, 27)
AT = datetime(2026, 11, 27, 19, tzinfo=UTC)


def _check(refunds: list[int], *, tender: TenderType = TenderType.CARD, facilitator: bool = False) -> Order:
    return Order(
        id="o1",
        location_id="bk1",
        opened_at=AT,
        business_date=DAY,
        state=OrderState.COMPLETED,
        lines=[Line(id="l", name="Steak", quantity=Decimal(1), unit_price=Money(2000), category="Burgers")],
        taxes=[
            Tax(name="tax", amount=Money(178), rate=Decimal("0.08875"), marketplace_facilitator=facilitator)
        ],
        payments=[
            Payment(
                id="p", tender=tender, amount=Money(2178), marketplace="doordash" if facilitator else None
            )
        ],
        refunds=[Refund(id=f"r{i}", amount=Money(a), payment_id="p") for i, a in enumerate(refunds)],
    )


def _entry(order: Order) -> JournalEntry:
    return build_journal([order], MAPPINGS, location_id="bk1", business_date=DAY)


def _line(entry: JournalEntry, memo: str) -> int:
    return sum(ln.debit.amount - ln.credit.amount for ln in entry.lines if ln.memo == memo)


def test_a_full_refund_gives_back_all_the_tax() -> None:
    entry = _entry(_check([2178]))
    assert _line(entry, "sales tax refunded") == 178
    assert _line(entry, "refunds") == 2000
    assert _line(entry, "sales tax") == -178  # collected, credit
    assert entry.total_debits() == entry.total_credits()


def test_partial_refunds_give_back_the_tax_in_proportion_and_never_more() -> None:
    assert refunded_tax(_check([1089])) == {"r0": 89}
    assert refunded_tax(_check([1089, 1089])) == {"r0": 89, "r1": 89}
    entry = _entry(_check([1089]))
    assert (_line(entry, "sales tax refunded"), _line(entry, "refunds")) == (89, 1000)


def test_tax_a_marketplace_remits_is_not_given_back() -> None:
    order = _check([2178], tender=TenderType.MARKETPLACE, facilitator=True)
    assert payable_tax(order) == 0 and refunded_tax(order) == {}
    assert _line(_entry(order), "sales tax refunded") == 0


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.integers(1, 2178), min_size=1, max_size=4))
def test_the_tax_given_back_never_exceeds_the_tax_collected(parts: list[int]) -> None:
    order = _check(parts)
    shares = refunded_tax(order)
    assert all(share >= 0 for share in shares.values())
    assert sum(shares.values()) <= 178
    if sum(parts) >= 2178:
        assert sum(shares.values()) == 178
    assert _entry(order).total_debits() == _entry(order).total_credits()
