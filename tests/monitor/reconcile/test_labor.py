"""POS punches = payroll hours."""

from __future__ import annotations

from expediter.monitor.reconcile.labor import LaborFacts, SentPunches, check_labor
from expediter.monitor.reconcile.model import CheckState
from tests.monitor.reconcile.helpers import DAY, LOCATION, punch


def _facts(pos: list, labor: list | None, payroll: list | None = None) -> LaborFacts:
    files = [SentPunches(flow_id="nightly-labor", data="labor", sent=labor is not None, punches=labor or [])]
    files.append(
        SentPunches(
            flow_id="payroll", data="payroll", sent=payroll is not None, due=False, punches=payroll or []
        )
    )
    return LaborFacts(location=LOCATION, business_date=DAY, punches=pos, files=files)


def test_a_punch_corrected_after_the_labor_file_went_out_differs_until_it_is_sent_again() -> None:
    sent = [punch("P1", 8), punch("P2", 6)]
    now = [punch("P1", 8), punch("P2", 7.5, version=2)]
    result = check_labor(_facts(now, sent))
    assert result.state is CheckState.DIFFER
    [difference] = result.differences
    assert difference.record == "P2" and difference.values == {"pos": 27000, "labor": 21600}
    assert "version 1" in difference.problem
    assert result.flow_id == "nightly-labor"
    assert check_labor(_facts(now, now)).state is CheckState.AGREE


def test_an_open_punch_has_no_hours_to_pay_until_someone_clocks_out() -> None:
    still_on = [punch("P1", 8, open_=True)]
    result = check_labor(_facts(still_on, still_on))
    assert result.state is CheckState.DIFFER and "still clocked in" in result.differences[0].problem
    closed = [punch("P1", 8, version=2)]
    assert check_labor(_facts(closed, closed)).state is CheckState.AGREE


def test_the_payroll_file_is_compared_once_it_covers_the_day() -> None:
    now = [punch("P1", 8)]
    assert check_labor(_facts(now, now)).totals == {"pos": 28800, "labor": 28800}  # period still open
    short = check_labor(_facts(now, now, payroll=[]))
    assert (
        short.state is CheckState.DIFFER and short.differences[0].problem == "missing from the payroll file"
    )
    assert check_labor(_facts(now, now, payroll=now)).state is CheckState.AGREE
