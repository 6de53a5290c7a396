"""The reconciliation calendar, a day's records, the Reconcile now button and an order's trace,
served by the hub's own app from what the hub stored."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs
from expediter.model import clock
from expediter.monitor.reconcile.model import CheckName, CheckResult, CheckState, Difference, Unit
from expediter.monitor.reconcile.store import save_results
from expediter.web.app import create_app
from expediter.web.reconcile import ReconciliationPages
from expediter.web.roles import Role, role_needed
from tests.engine.reconcile_support import (
    LOCATION,
    due_at,
    folder_catalog,
    last_night,
    nightly_flow,
    store_day,
)


def _differ(day: object) -> CheckResult:
    return CheckResult(
        check=CheckName.SALES,
        location_id=LOCATION.id,
        business_date=day,  # type: ignore[arg-type]
        state=CheckState.DIFFER,
        summary="1 record differs",
        flow_id="nightly-journal",
        unit=Unit.MINOR,
        currency="USD",
        totals={"pos": 2649, "journal": 2149},
        differences=[
            Difference(
                record="L001-C0042",
                problem="missing from the journal file",
                values={"pos": 500, "journal": 0},
            )
        ],
        checked_at=due_at(day),  # type: ignore[arg-type]
    )


def test_the_calendar_shows_a_red_day_and_the_day_lists_its_records(tmp_path: Path) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal")])
    night = last_night()

    async def scenario() -> tuple[str, str, httpx.Response, httpx.Response]:
        async with Hub(catalog, deliver=False) as hub:
            await save_results(hub.storage, [_differ(night)])
            app = httpx.ASGITransport(app=create_app(hub, manage_hub=False))
            async with httpx.AsyncClient(transport=app, base_url="http://hub") as client:
                month = await client.get(f"/reconciliation?month={night:%Y-%m}")
                day = await client.get(f"/reconciliation/{LOCATION.id}/{night}")
                refused = await client.post(
                    "/reconciliation/run",
                    data={"location": LOCATION.id, "day": str(night)},
                    headers={"Origin": "http://evil.example"},
                )
                ran = await client.post(
                    "/reconciliation/run",
                    data={"location": LOCATION.id, "day": str(night)},
                    headers={"Origin": "http://hub"},
                )
                return month.text, day.text, refused, ran

    month, day, refused, ran = asyncio.run(scenario())
    cell = re.search(rf'<td class="day day-differ" data-date="{night}">(.*?)</td>', month, re.S)
    assert cell is not None, month
    assert 'class="check check-differ" data-check="sales"' in cell.group(1)
    assert (
        "L001-C0042" in day
        and "missing from the journal file" in day
        and "pos 5.00 USD, journal 0.00 USD" in day
    )
    assert refused.status_code == 403
    assert ran.status_code == 303 and ran.headers["location"].startswith(
        f"/reconciliation/{LOCATION.id}/{night}?done="
    )
    assert role_needed(ReconciliationPages(None).run) is Role.OPERATOR


def test_the_trace_page_shows_an_orders_hops_and_says_when_there_is_no_such_order(tmp_path: Path) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal")])
    night = last_night()

    async def scenario() -> tuple[str, httpx.Response]:
        async with Hub(catalog, deliver=False) as hub:
            orders, _ = await store_day(hub, night)
            await FileJobs(hub).run("nightly-journal", LOCATION.id, night)
            app = httpx.ASGITransport(app=create_app(hub, manage_hub=False))
            async with httpx.AsyncClient(transport=app, base_url="http://hub") as client:
                found = await client.get("/trace", params={"order": orders[0].id})
                missing = await client.get("/trace", params={"order": "no-such-order"})
                return found.text, missing

    found, missing = asyncio.run(scenario())
    assert 'class="hop hop-received"' in found and "POST /api/v1/orders" in found
    assert 'class="hop hop-file"' in found and f"journal_L001_{night:%Y%m%d}.beancount" in found
    assert 'data-data="journal"' in found and "4000 Food Sales" in found
    assert missing.status_code == 404 and "no order &#39;no-such-order&#39; in the hub" in missing.text


def test_a_date_out_of_range_is_a_clear_refusal_and_a_month_out_of_range_shows_this_month(
    tmp_path: Path,
) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal")])

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with Hub(catalog, deliver=False) as hub:
            app = httpx.ASGITransport(app=create_app(hub, manage_hub=False))
            async with httpx.AsyncClient(transport=app, base_url="http://hub") as client:
                ancient = await client.get(f"/reconciliation/{LOCATION.id}/0001-01-01")
                posted = await client.post(
                    "/reconciliation/run",
                    data={"location": LOCATION.id, "day": "9999-12-31"},
                    headers={"Origin": "http://hub"},
                )
                month = await client.get("/reconciliation?month=0001-01")
                return ancient, posted, month

    ancient, posted, month = asyncio.run(scenario())
    assert ancient.status_code == 400 and "YYYY-MM-DD" in ancient.text
    assert posted.status_code == 400 and "a year ahead" in posted.text
    today = LOCATION.business_date_for(clock.now())
    assert month.status_code == 200 and f"{today:%B %Y}" in month.text
