"""A whole simulated day (the simulator's checks, not ours) closes into one balanced entry."""

from __future__ import annotations

from datetime import date

import pytest

from expediter.catalog.schema import Mappings
from expediter.operations.accounting.journal import AccountRole, build_journal

sim_day = pytest.importorskip("expediter.sim.day")
sim_locations = pytest.importorskip("expediter.sim.locations")
sim_menu = pytest.importorskip("expediter.sim.menu")

DAY = date(2026, 11, 27)


def _mappings() -> Mappings:
    return Mappings(
        category_accounts={c: f"4{i:03d} {c}" for i, c in enumerate(sim_menu.CATEGORIES)},
        discount_accounts={"happy hour": "4900 Discounts", "employee meal": "4910 Employee meals"},
        tender_accounts={"card": "1010 Cards", "cash": "1000 Cash", "marketplace": "1020 Marketplaces"},
        accounts={
            "sales_tax": "2100 Tax",
            "tips_payable": "2200 Tips",
            "service_charges": "4500 Service",
            "gift_cards": "2300 Gift cards",
            "cash_over_short": "6900 Over/short",
            "comps": "4950 Comps",
            "refunds": "4960 Refunds",
            "unpaid_checks": "1200 Unpaid",
        },
    )


def test_simulated_day_balances() -> None:
    location = sim_locations.sim_location(1)
    orders = list(sim_day.iter_orders(location, DAY, 11, 0.2))
    entry = build_journal(orders, _mappings(), location_id=location.id, business_date=DAY)
    assert entry.total_debits() == entry.total_credits()
    assert entry.total_debits().amount > 0
    roles = {line.role for line in entry.lines}
    assert {AccountRole.REVENUE, AccountRole.CLEARING, AccountRole.LIABILITY} <= roles
