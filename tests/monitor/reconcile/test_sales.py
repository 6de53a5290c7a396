"""POS net sales = journal revenue = the back-office sales summary, to the cent."""

from __future__ import annotations

from datetime import timedelta

from expediter.monitor.reconcile.model import CheckState
from expediter.monitor.reconcile.sales import SalesFacts, SentOrders, check_sales, journal_revenue, net_sales
from expediter.operations.accounting.journal import build_journal
from tests.monitor.reconcile.helpers import DAY, LOCATION, MAPPINGS, NOON, check


def _facts(pos: list, journal: list | None, summary: list | None, *, due: bool = True) -> SalesFacts:
    files = [
        SentOrders(
            flow_id="nightly-journal", data="journal", sent=journal is not None, due=due, orders=journal or []
        ),
        SentOrders(
            flow_id="nightly-sales",
            data="sales_summary",
            sent=summary is not None,
            due=due,
            orders=summary or [],
        ),
    ]
    return SalesFacts(location=LOCATION, business_date=DAY, orders=pos, files=files, mappings=MAPPINGS)


def test_three_systems_that_carried_the_same_orders_agree_to_the_cent() -> None:
    orders = [check("A", 1250), check("B", 899, category="Beer")]
    result = check_sales(_facts(orders, orders, orders))
    assert result.state is CheckState.AGREE, result.differences
    assert result.totals == {"pos": 2149, "journal": 2149, "sales summary": 2149}


def test_an_edited_check_after_the_night_went_out_differs_until_the_night_is_sent_again() -> None:
    sent = [check("A", 1250), check("B", 899)]
    now = [check("A", 1250), check("B", 1399, version=2)]  # a dessert added after the close
    result = check_sales(_facts(now, sent, sent))
    assert result.state is CheckState.DIFFER
    assert result.flow_id == "nightly-journal"
    [journal, summary] = result.differences
    assert journal.record == summary.record == "B"
    assert "version 1" in journal.problem and "version 2" in journal.problem
    assert journal.values["pos"] == 1399 and journal.values["journal"] == 899
    assert summary.values["sales summary"] == 899
    assert result.totals == {"pos": 2649, "journal": 2149, "sales summary": 2149}

    fixed = check_sales(_facts(now, now, now))  # the night re-run: both files carry version 2
    assert fixed.state is CheckState.AGREE and fixed.totals["journal"] == 2649


def test_a_late_refund_is_listed_with_its_amount_on_the_day_it_happened() -> None:
    sold = check("A", 2000)
    refunded = check("A", 2000, version=2, refund=500, refunded_at=NOON + timedelta(hours=3))
    result = check_sales(_facts([refunded], [sold], [sold]))
    assert result.state is CheckState.DIFFER
    assert all(d.values["pos refunds"] == 500 for d in result.differences)
    assert "refunds 5.00 USD in the POS" in result.differences[0].problem
    assert check_sales(_facts([refunded], [refunded], [refunded])).state is CheckState.AGREE


def test_a_night_whose_journal_never_went_out_differs_once_it_was_due() -> None:
    orders = [check("A", 1250)]
    missing = check_sales(_facts(orders, None, orders))
    assert missing.state is CheckState.DIFFER
    [difference] = missing.differences
    assert difference.record == "nightly-journal" and "no journal file went out" in difference.problem
    assert check_sales(_facts(orders, None, None, due=False)).state is CheckState.PENDING
    assert check_sales(_facts(orders, orders, orders)).state is CheckState.AGREE


def test_journal_revenue_is_the_orders_net_sales_tax_excluded() -> None:
    orders = [check("A", 1250), check("B", 899, category="Beer")]
    entry = build_journal(orders, MAPPINGS, location_id=LOCATION.id, business_date=DAY, location=LOCATION)
    assert journal_revenue(entry) == sum(net_sales(o) for o in orders) == 2149
