"""Self-healing nights: a night whose file never went out is run; a night whose inputs changed after
it went out is re-sent, corrected or left for a person by the flow's ``heal`` policy; the running
hub does it in a watched loop and alerts the flow's owner when a person must act."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from expediter.check.catalog import flow_problems
from expediter.engine.heal import Healer, HealOutcome, NightProblem
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs
from expediter.engine.reconcile import Reconciler
from expediter.engine.schedule_time import business_day_end
from expediter.model.money import Money
from expediter.model.order import Line, Order, Refund
from expediter.monitor.alerts import AlertKind
from expediter.monitor.reconcile.model import CheckName, CheckState
from expediter.runtime import Runtime
from tests.engine.reconcile_support import (
    LOCATION,
    due_at,
    folder_catalog,
    last_night,
    nightly_flow,
    store,
    store_day,
)

PIE = Line(id="late", name="Pie", quantity=Decimal(1), unit_price=Money(650), category="Desserts")


def _edited(order: Order) -> Order:
    """The check with a pie added after the close (a new version)."""
    return msgspec.structs.replace(order, version=order.version + 1, lines=[*order.lines, PIE])


def test_a_night_whose_file_never_went_out_is_run_and_then_found_whole(tmp_path: Path, database: str) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-sales")], database=database)
    night = last_night()

    async def scenario() -> tuple[list, list, list]:
        async with Hub(catalog, deliver=False) as hub:
            for day in (night - timedelta(days=1), night):
                await store_day(hub, day)
            await FileJobs(hub).run(
                "nightly-sales", LOCATION.id, night - timedelta(days=1)
            )  # then the hub was down
            healer = Healer(hub)
            found = await healer.find(due_at(night))
            healed = await healer.heal(found)
            return found, healed, await healer.find(due_at(night))

    found, healed, after = asyncio.run(scenario())
    [missing] = found
    assert (missing.business_date, missing.problem) == (night, NightProblem.MISSING)
    [done] = healed
    assert done.outcome is HealOutcome.RESENT and done.files
    assert (tmp_path / "out" / "office" / done.files[0]).exists()
    assert after == []


def test_a_night_whose_inputs_changed_is_resent_and_reconciles(tmp_path: Path, database: str) -> None:
    catalog = folder_catalog(
        tmp_path, [nightly_flow("nightly-journal"), nightly_flow("nightly-sales")], database=database
    )
    night = last_night()

    async def scenario() -> tuple[list, list, list, CheckState]:
        async with Hub(catalog, deliver=False) as hub:
            orders, _ = await store_day(hub, night)
            for flow in catalog.flows:
                await FileJobs(hub).run(flow.id, LOCATION.id, night)
            healer = Healer(hub)
            unchanged = await healer.find(due_at(night))
            await store(hub, "orders", _edited(orders[0]), night)
            healed = await healer.look_back(due_at(night))
            [sales] = await Reconciler(hub).reconcile(
                [LOCATION.id], night, night, [CheckName.SALES], now=due_at(night)
            )
            return unchanged, healed, await healer.find(due_at(night)), sales.state

    unchanged, healed, after, sales = asyncio.run(scenario())
    assert unchanged == []
    assert {(n.flow_id, n.problem, n.outcome) for n in healed} == {
        ("nightly-journal", NightProblem.CHANGED, HealOutcome.RESENT),
        ("nightly-sales", NightProblem.CHANGED, HealOutcome.RESENT),
    }
    assert after == [] and sales is CheckState.AGREE


def test_a_changed_journal_under_correction_posts_only_the_difference(tmp_path: Path, database: str) -> None:
    catalog = folder_catalog(
        tmp_path, [nightly_flow("nightly-journal", heal="correction")], database=database
    )
    night = last_night()

    async def scenario() -> tuple[list, list]:
        async with Hub(catalog, deliver=False) as hub:
            orders, _ = await store_day(hub, night)
            await FileJobs(hub).run("nightly-journal", LOCATION.id, night)
            await store(hub, "orders", _edited(orders[0]), night)
            healed = await Healer(hub).look_back(due_at(night))
            return healed, await Healer(hub).find(due_at(night))

    healed, after = asyncio.run(scenario())
    [night_healed] = healed
    assert night_healed.outcome is HealOutcome.CORRECTED
    [name] = night_healed.files
    assert name == f"journal_L001_{night:%Y%m%d}-correction-1.beancount"
    text = (tmp_path / "out" / "books" / name).read_text()
    assert f'document: "DS-L001-{night:%Y%m%d}-C1"' in text
    assert "Income:4000-Food-Sales" in text and "-6.50 USD" in text  # the pie, and nothing else of the day
    original = (tmp_path / "out" / "books" / f"journal_L001_{night:%Y%m%d}.beancount").read_text()
    assert len(text.splitlines()) < len(original.splitlines())
    assert after == []


def test_ask_sends_nothing_and_the_running_hub_asks_the_owner_until_someone_reruns(
    tmp_path: Path, database: str
) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-sales", heal="ask")], database=database)
    night = last_night()

    async def scenario() -> tuple[int, list[str], list[str], int]:
        runtime = Runtime(catalog, schedule=False, watch=False)
        await runtime.start()
        try:
            hub = runtime.hub
            orders, _ = await store_day(hub, night)
            await FileJobs(hub).run("nightly-sales", LOCATION.id, night)
            await store(hub, "orders", _edited(orders[0]), night)
            await runtime.reconcile_once(due_at(night))
            sent = len(await hub.ledger.day_transfers("nightly-sales", LOCATION.id, night, night))
            asking = [
                a.message for a in runtime.alerting.book.firing() if a.kind is AlertKind.HELD_FOR_REVIEW
            ]
            await FileJobs(hub).run("nightly-sales", LOCATION.id, night)  # the owner re-runs it
            await runtime.reconcile_once(due_at(night))
            still = [a.message for a in runtime.alerting.book.firing() if a.kind is AlertKind.HELD_FOR_REVIEW]
            return (
                sent,
                asking,
                still,
                len(await hub.ledger.day_transfers("nightly-sales", LOCATION.id, night, night)),
            )
        finally:
            await runtime.stop()

    sent, asking, still, after = asyncio.run(scenario())
    assert sent == 1  # nothing went out by itself
    [message] = asking
    assert "changed" in message and f"expediter run nightly-sales --date {night}" in message
    assert still == [] and after == 2


def test_the_running_hub_alerts_the_flows_owner_while_a_check_differs_and_resolves_after_the_fix(
    tmp_path: Path,
    database: str,
) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal")], database=database)
    night = last_night()

    async def scenario() -> tuple[list, list]:
        runtime = Runtime(catalog, schedule=False, watch=False)
        await runtime.start()
        try:
            hub = runtime.hub
            await store_day(hub, night)
            [name] = (await FileJobs(hub).run("nightly-journal", LOCATION.id, night)).files
            (tmp_path / "out" / "books" / name).unlink()
            await runtime.reconcile_once(due_at(night))
            firing = [a for a in runtime.alerting.book.firing() if a.kind is AlertKind.RECONCILIATION]
            await FileJobs(hub).run("nightly-journal", LOCATION.id, night)
            await runtime.reconcile_once(due_at(night))
            return firing, [a for a in runtime.alerting.book.firing() if a.kind is AlertKind.RECONCILIATION]
        finally:
            await runtime.stop()

    firing, after = asyncio.run(scenario())
    [alert] = firing
    assert (alert.flow_id, alert.location_id) == ("nightly-journal", LOCATION.id)
    assert "deliveries" in alert.message and "not at the destination" in alert.message
    assert after == []


def test_the_reconciliation_loop_is_a_watched_part_of_the_running_hub(tmp_path: Path, database: str) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal")], database=database)

    async def scenario() -> tuple[list[str], list[str]]:
        runtime = Runtime(catalog)
        await runtime.start()
        try:
            [loop] = [t for t in runtime._tasks if t.get_name().startswith("the reconciliation watch")]
            loop.cancel()
            await asyncio.sleep(0.05)
            stopped = [a.message for a in runtime.alerting.book.firing() if a.kind is AlertKind.STOPPED]
            return runtime.health_problems(), stopped
        finally:
            await runtime.stop()

    problems, stopped = asyncio.run(scenario())
    assert any(p.startswith("the reconciliation watch") for p in problems)
    assert stopped and "the reconciliation watch" in stopped[0]


@pytest.mark.parametrize(("value", "problems"), [("resend", 0), ("correction", 0), ("ask", 0), ("later", 1)])
def test_the_heal_setting_is_checked(tmp_path: Path, value: str, problems: int) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal", heal=value)])
    found = [
        p
        for p in flow_problems(catalog, catalog.flows[0], "$.flows[0]", "expediter.toml")
        if "heal" in p.where
    ]
    assert len(found) == problems
    if found:
        assert (
            found[0].where == "$.flows[0].settings.heal" and '"resend", "correction", "ask"' in found[0].fix
        )


def test_nights_before_the_flow_first_ran_are_not_backfilled(tmp_path: Path, database: str) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-sales")], database=database)
    night = last_night()

    async def scenario() -> list:
        async with Hub(catalog, deliver=False) as hub:
            await store_day(hub, night - timedelta(days=3))
            await store_day(hub, night)
            await FileJobs(hub).run("nightly-sales", LOCATION.id, night)
            return await Healer(hub).find(due_at(night))

    assert asyncio.run(scenario()) == []


def _refunds(journal: str) -> Decimal:
    """The journal's postings to the refunds account, summed."""
    return sum((Decimal(m) for m in re.findall(r"4960-Refunds\s+(-?[\d.]+) USD", journal)), Decimal(0))


def test_a_late_refund_changes_the_night_it_was_given_on_and_the_night_is_resent(
    tmp_path: Path, database: str
) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal")], database=database)
    night = last_night()
    before = night - timedelta(days=1)

    journal_file = tmp_path / "out" / "books" / f"journal_L001_{night:%Y%m%d}.beancount"

    async def scenario() -> tuple[str, list, str, CheckState]:
        async with Hub(catalog, deliver=False) as hub:
            orders, _ = await store_day(hub, before)
            await store_day(hub, night)
            for day in (before, night):
                await FileJobs(hub).run("nightly-journal", LOCATION.id, day)
            sent = journal_file.read_text()
            [paid] = [o for o in orders if o.payments][:1]
            given = business_day_end(LOCATION, night) - timedelta(hours=3)
            refund = Refund(id="late", amount=Money(500), payment_id=paid.payments[0].id, created_at=given)
            refunded = msgspec.structs.replace(paid, version=paid.version + 1, refunds=[refund])
            await store(hub, "orders", refunded, before)
            healed = await Healer(hub).look_back(due_at(night))
            journal = journal_file.read_text()
            [sales] = await Reconciler(hub).reconcile(
                [LOCATION.id], night, night, [CheckName.SALES], now=due_at(night)
            )
            return sent, healed, journal, sales.state

    sent, healed, journal, sales = asyncio.run(scenario())
    assert ("nightly-journal", night, NightProblem.CHANGED, HealOutcome.RESENT) in {
        (n.flow_id, n.business_date, n.problem, n.outcome) for n in healed
    }
    booked = abs(_refunds(journal)) - abs(_refunds(sent))
    assert Decimal(0) < booked <= Decimal("5.00")  # the resent night books the refund, less its tax
    assert sales is CheckState.AGREE


def test_a_night_still_missing_after_its_rerun_asks_the_owner_until_it_goes_out(
    tmp_path: Path, database: str
) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-sales")], database=database)
    night = last_night()

    async def scenario() -> tuple[list[str], list[str]]:
        runtime = Runtime(catalog, schedule=False, watch=False)
        await runtime.start()
        try:
            hub = runtime.hub
            await store_day(hub, night - timedelta(days=1))
            await store_day(hub, night)
            await FileJobs(hub).run("nightly-sales", LOCATION.id, night - timedelta(days=1))
            office = tmp_path / "out" / "office"
            shutil.rmtree(office)
            office.write_text("not a folder")  # the back office's share is broken tonight
            await runtime.reconcile_once(due_at(night))
            missing = [
                a.message for a in runtime.alerting.book.firing() if a.kind is AlertKind.HELD_FOR_REVIEW
            ]
            office.unlink()
            await runtime.reconcile_once(due_at(night))
            return missing, [
                a.message for a in runtime.alerting.book.firing() if a.kind is AlertKind.HELD_FOR_REVIEW
            ]
        finally:
            await runtime.stop()

    missing, after = asyncio.run(scenario())
    [message] = missing
    assert f"{night} is still missing after its re-run" in message
    assert f"expediter run nightly-sales --date {night} --location {LOCATION.id}" in message
    assert after == []
