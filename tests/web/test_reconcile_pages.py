"""The reconciliation calendar, a day's records, the Reconcile now button and an order's trace,
served by the hub's own app from what the hub stored, to a person signed in through the door."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import msgspec

from expediter.access.audit import AuditAction
from expediter.catalog.schema import Catalog
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs
from expediter.model import clock
from expediter.model.location import Location
from expediter.monitor.reconcile.model import CheckName, CheckResult, CheckState, Difference, Unit
from expediter.monitor.reconcile.store import save_results
from expediter.web.app import create_app
from expediter.web.people import people_of
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
from tests.web.signin import signed_in


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


def test_the_calendar_shows_a_red_day_and_the_day_lists_its_records(tmp_path: Path, database: str) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal")], database=database)
    night = last_night()
    form = {"location": LOCATION.id, "day": str(night)}

    async def scenario() -> tuple[str, str, httpx.Response, httpx.Response, httpx.Response, list[str]]:
        async with Hub(catalog, deliver=False) as hub:
            await save_results(hub.storage, [_differ(night)])
            app = create_app(hub, manage_hub=False)
            async with signed_in(hub, app, Role.VIEWER) as (viewer, token):
                not_allowed = await viewer.post("/reconciliation/run", data={**form, "csrf": token})
            async with signed_in(hub, app, Role.OPERATOR) as (client, token):
                month = await client.get(f"/reconciliation?month={night:%Y-%m}")
                day = await client.get(f"/reconciliation/{LOCATION.id}/{night}")
                forged = await client.post("/reconciliation/run", data=form)  # no CSRF token
                ran = await client.post("/reconciliation/run", data={**form, "csrf": token})
            entries = await people_of(hub).audit.entries()
            audited = [
                f"{e.actor} {e.outcome} {e.location_id} {e.detail}"
                for e in entries
                if e.action is AuditAction.RECONCILE
            ]
            return month.text, day.text, not_allowed, forged, ran, audited

    month, day, not_allowed, forged, ran, audited = asyncio.run(scenario())
    cell = re.search(rf'<td class="day day-differ" data-date="{night}">(.*?)</td>', month, re.S)
    assert cell is not None, month
    assert 'class="check check-differ" data-check="sales"' in cell.group(1)
    assert (
        "L001-C0042" in day
        and "missing from the journal file" in day
        and "pos 5.00 USD, journal 0.00 USD" in day
    )
    assert 'name="csrf"' in day and "Reconcile now" in day
    assert not_allowed.status_code == 403 and forged.status_code == 403
    assert ran.status_code == 303 and ran.headers["location"].startswith(
        f"/reconciliation/{LOCATION.id}/{night}?done="
    )
    assert role_needed(ReconciliationPages(None).run) is Role.OPERATOR
    done = [line for line in audited if line.startswith("operator done")]
    assert len(done) == 1 and done[0].startswith(
        f"operator done {LOCATION.id} {LOCATION.id} {night}: reconciled"
    )
    assert any(line.startswith("viewer refused") for line in audited), audited


def test_the_trace_page_shows_an_orders_hops_and_says_when_there_is_no_such_order(
    tmp_path: Path, database: str
) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal")], database=database)
    night = last_night()

    async def scenario() -> tuple[str, httpx.Response]:
        async with Hub(catalog, deliver=False) as hub:
            orders, _ = await store_day(hub, night)
            await FileJobs(hub).run("nightly-journal", LOCATION.id, night)
            async with signed_in(hub, create_app(hub, manage_hub=False), Role.VIEWER) as (client, _):
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
        async with (
            Hub(catalog, deliver=False) as hub,
            signed_in(hub, create_app(hub, manage_hub=False), Role.OPERATOR) as (client, token),
        ):
            ancient = await client.get(f"/reconciliation/{LOCATION.id}/0001-01-01")
            posted = await client.post(
                "/reconciliation/run", data={"location": LOCATION.id, "day": "9999-12-31", "csrf": token}
            )
            month = await client.get("/reconciliation?month=0001-01")
            return ancient, posted, month

    ancient, posted, month = asyncio.run(scenario())
    assert ancient.status_code == 400 and "YYYY-MM-DD" in ancient.text
    assert posted.status_code == 400 and "a year ahead" in posted.text
    today = LOCATION.business_date_for(clock.now())
    assert month.status_code == 200 and f"{today:%B %Y}" in month.text


OTHER = Location(id="L002", name="Harbor", timezone="America/Chicago")


def _two_locations(catalog: Catalog) -> Catalog:
    return msgspec.structs.replace(catalog, locations=[LOCATION, OTHER])


def test_a_person_of_one_location_sees_neither_another_locations_days_nor_its_orders(tmp_path: Path) -> None:
    catalog = _two_locations(folder_catalog(tmp_path, [nightly_flow("nightly-journal")]))
    night = last_night()
    theirs = msgspec.structs.replace(_differ(night), location_id=OTHER.id)

    async def scenario() -> tuple[dict[str, httpx.Response], str]:
        seen: dict[str, httpx.Response] = {}
        async with Hub(catalog, deliver=False) as hub:
            orders, _ = await store_day(hub, night)
            await save_results(hub.storage, [_differ(night), theirs])
            app = create_app(hub, manage_hub=False)
            async with signed_in(hub, app, Role.OPERATOR, locations=(OTHER.id,)) as (client, token):
                seen["calendar"] = await client.get(f"/reconciliation?month={night:%Y-%m}")
                seen["other calendar"] = await client.get(f"/reconciliation?location={LOCATION.id}")
                seen["own day"] = await client.get(f"/reconciliation/{OTHER.id}/{night}")
                seen["other day"] = await client.get(f"/reconciliation/{LOCATION.id}/{night}")
                seen["other run"] = await client.post(
                    "/reconciliation/run", data={"location": LOCATION.id, "day": str(night), "csrf": token}
                )
                seen["other trace"] = await client.get("/trace", params={"order": orders[0].id})
            async with signed_in(hub, app, Role.VIEWER, locations=(LOCATION.id,)) as (client, _):
                seen["own trace"] = await client.get("/trace", params={"order": orders[0].id})
        return seen, orders[0].id

    seen, order_id = asyncio.run(scenario())
    calendar = seen["calendar"].text
    assert seen["calendar"].status_code == 200 and f'<option value="{OTHER.id}"' in calendar
    assert f'<option value="{LOCATION.id}"' not in calendar
    assert seen["own day"].status_code == 200 and "L001-C0042" in seen["own day"].text
    for name in ("other calendar", "other day", "other run"):
        assert seen[name].status_code == 404, name
        assert "L001-C0042" not in seen[name].text
    other = seen["other trace"]
    assert other.status_code == 404 and "hop-received" not in other.text
    assert f"no order &#39;{order_id}&#39; in the hub" in other.text
    assert seen["own trace"].status_code == 200 and 'class="hop hop-received"' in seen["own trace"].text
