"""Tips: card and declared cash tips, service charges as wages, and tip pools that never lose a cent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expediter.errors import RejectedInput
from expediter.model.labor import Job
from expediter.model.money import Money
from expediter.model.order import Line, Order, OrderState, Payment, ServiceCharge, TenderType
from expediter.operations.labor.tips import (
    PoolBasis,
    PoolMember,
    TipPool,
    card_tips_by_employee,
    charged_tips_by_employee,
    declared_cash_tips_by_employee,
    distribute_pool,
    pool_members,
    pos_tips_by_employee,
    service_charge_wages,
    unowned_auto_gratuity,
)

from .punches import punch

NOW = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)


def order(
    id_: str,
    employee: str | None,
    *payments: Payment,
    state: OrderState = OrderState.COMPLETED,
    charges: tuple[ServiceCharge, ...] = (),
) -> Order:
    return Order(
        id=id_,
        location_id="LA1",
        opened_at=NOW,
        employee_id=employee,
        state=state,
        lines=[Line(id="l", name="x", quantity=Decimal(1), unit_price=Money(1000))],
        payments=list(payments),
        service_charges=list(charges),
    )


def card(tip: int) -> Payment:
    return Payment(id="p", tender=TenderType.CARD, amount=Money(1000), tip=Money(tip))


def test_card_tips_go_to_the_check_owner_and_cash_tender_tips_do_not_count() -> None:
    orders = [
        order("1", "ann", card(200), card(150)),
        order(
            "2", "bob", card(300), Payment(id="c", tender=TenderType.CASH, amount=Money(500), tip=Money(99))
        ),
        order("3", None, card(50)),
        order("4", "ann", card(1000), state=OrderState.CANCELED),
    ]
    assert card_tips_by_employee(orders) == {"ann": Money(350), "bob": Money(300), "": Money(50)}


def test_tips_rung_on_cash_reach_payroll_like_card_tips() -> None:
    """The journal credits every rung tip, cash included, to Tips Payable (the cash stays in the
    drawer), so payroll owes all of them."""
    orders = [
        order("1", "ann", card(200)),
        order("2", "ann", Payment(id="c", tender=TenderType.CASH, amount=Money(500), tip=Money(99))),
        order("3", None, card(50)),
        order("4", "bob", card(1000), state=OrderState.CANCELED),
    ]
    assert pos_tips_by_employee(orders) == {"ann": Money(299), "": Money(50)}


def test_auto_gratuity_on_a_check_nobody_owns_is_found_per_check() -> None:
    grat = ServiceCharge(name="18%", amount=Money(900), auto_gratuity=True)
    fee = ServiceCharge(name="delivery", amount=Money(300))
    orders = [
        order("banquet", None, card(0), charges=(grat, fee)),
        order("2", "ann", card(0), charges=(grat,)),
    ]
    (held,) = unowned_auto_gratuity(orders)
    assert (held.order_id, held.amount) == ("banquet", Money(900))


def test_declared_cash_tips_add_up_per_employee() -> None:
    punches = [
        punch("2026-03-02 10:00", 5, cash_tips=1200),
        punch("2026-03-03 10:00", 5, cash_tips=800),
        punch("2026-03-02 10:00", 5, employee="e2"),
    ]
    assert declared_cash_tips_by_employee(punches) == {"e1": Money(2000)}


def test_auto_gratuity_is_wages_not_tips() -> None:
    grat = ServiceCharge(name="18%", amount=Money(900), auto_gratuity=True)
    fee = ServiceCharge(name="delivery", amount=Money(300))
    orders = [order("1", "ann", card(0), charges=(grat, fee))]
    assert service_charge_wages(orders) == {"ann": Money(900)}
    assert service_charge_wages(orders, auto_gratuity_only=False) == {"ann": Money(1200)}
    assert card_tips_by_employee(orders) == {}


def test_tips_on_every_non_cash_tender_reach_payroll() -> None:
    # The journal credits Tips Payable for a gift-card or marketplace tip; payroll must pay it out.
    def paid_by(tender: TenderType, tip: int) -> Payment:
        return Payment(id=tender.value, tender=tender, amount=Money(1000), tip=Money(tip))

    orders = [
        order("1", "ann", paid_by(TenderType.GIFT_CARD, 200), paid_by(TenderType.CASH, 99)),
        order("2", "bob", paid_by(TenderType.MARKETPLACE, 150), card(100)),
    ]
    assert charged_tips_by_employee(orders) == {"ann": Money(200), "bob": Money(250)}


def member(employee: str, job: str, hours: float, manager: bool = False) -> PoolMember:
    return PoolMember(employee_id=employee, job_code=job, worked_seconds=int(hours * 3600), manager=manager)


def test_pool_by_hours_uses_largest_remainder() -> None:
    shares = distribute_pool(
        Money(10000),
        [member("a", "server", 5), member("b", "server", 5), member("c", "busser", 5)],
        TipPool(),
    )
    assert [(s.employee_id, s.amount.amount) for s in shares] == [("a", 3334), ("b", 3333), ("c", 3333)]


def test_pool_by_points_weights_points_by_hours() -> None:
    pool = TipPool(basis=PoolBasis.POINTS, job_points={"server": Decimal(10), "busser": Decimal(5)})
    # weights: a 10x6 = 60, b 5x6 = 30, c 10x3 = 30 -> 50% / 25% / 25% of 123.45
    shares = distribute_pool(
        Money(12345), [member("a", "server", 6), member("b", "busser", 6), member("c", "server", 3)], pool
    )
    assert [(s.employee_id, s.amount.amount) for s in shares] == [("a", 6173), ("b", 3086), ("c", 3086)]


def test_managers_never_share_a_pool_even_when_their_job_is_listed() -> None:
    members = [member("boss", "manager", 10, manager=True), member("a", "server", 5)]
    shares = distribute_pool(Money(5000), members, TipPool(jobs=["server", "manager"]))
    assert [(s.employee_id, s.amount.amount) for s in shares] == [("a", 5000)]


def test_pool_members_flags_managers_from_the_job_list() -> None:
    jobs = {"manager": Job(code="manager", name="Manager", hourly_wage=Money(3000), manager=True)}
    members = pool_members({("boss", "manager"): 3600, ("a", "server"): 3600}, jobs)
    assert {m.employee_id: m.manager for m in members} == {"a": False, "boss": True}


def test_a_pool_with_money_and_nobody_eligible_is_rejected() -> None:
    with pytest.raises(RejectedInput, match="nobody eligible"):
        distribute_pool(Money(100), [member("boss", "manager", 8, manager=True)], TipPool())
    assert distribute_pool(Money(0), [], TipPool()) == []


def test_a_job_in_a_points_pool_without_points_is_rejected() -> None:
    with pytest.raises(RejectedInput, match="no points"):
        distribute_pool(Money(100), [member("a", "host", 1)], TipPool(basis=PoolBasis.POINTS))


members_strategy = st.lists(
    st.builds(
        PoolMember,
        employee_id=st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        job_code=st.sampled_from(["server", "busser", "bar"]),
        worked_seconds=st.integers(1, 60 * 3600),
        manager=st.booleans(),
    ),
    min_size=1,
    max_size=12,
).filter(lambda ms: any(not m.manager for m in ms))


@given(
    amount=st.integers(0, 10_000_000),
    members=members_strategy,
    basis=st.sampled_from(list(PoolBasis)),
    points=st.fixed_dictionaries(
        {j: st.decimals(Decimal("0.5"), Decimal(20), places=1) for j in ("server", "busser", "bar")}
    ),
)
def test_shares_always_sum_exactly_to_the_pool(
    amount: int, members: list[PoolMember], basis: PoolBasis, points: dict[str, Decimal]
) -> None:
    pool = TipPool(basis=basis, job_points=points)
    shares = distribute_pool(Money(amount), members, pool)
    assert sum(s.amount.amount for s in shares) == amount
    assert all(s.amount.amount >= 0 for s in shares)
    managers_only = {m.employee_id for m in members if m.manager} - {
        m.employee_id for m in members if not m.manager
    }
    assert not managers_only & {s.employee_id for s in shares}
    # each share is within one cent of its exact proportional value
    weights: dict[str, Fraction] = {}
    for m in members:
        if not m.manager:
            factor = Fraction(points[m.job_code]) if basis is PoolBasis.POINTS else Fraction(1)
            weights[m.employee_id] = weights.get(m.employee_id, Fraction(0)) + factor * m.worked_seconds
    total = sum(weights.values())
    for s in shares:
        assert abs(s.amount.amount - Fraction(amount) * weights[s.employee_id] / total) < 1
