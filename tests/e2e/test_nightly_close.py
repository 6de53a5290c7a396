"""The nightly close, end to end: a simulated day in the hub's store → the csv and adp connectors →
a real SFTP server and a folder → re-read, it reconciles to the cent with the orders."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

from expediter.catalog.schema import Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.connectors.csv.mapping import summaries_from_rows
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs, RunResult
from expediter.formats.csv import layout, read_csv
from expediter.ledger.transfers import Transfer, TransferOutcome
from expediter.model.location import Location
from expediter.operations.sales.close import summarize_day
from expediter.sim.day import simulate_day
from expediter.sim.staff import staff_roster
from tests.e2e.support import store_day
from tests.servers import SftpServer

DAY = date(2026, 11, 26)
LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")


def _flow(flow_id: str, to: str, data: str, transport: str) -> Flow:
    return Flow(
        id=flow_id,
        from_="pos",
        to=to,
        data=data,
        level=Level.FILE,
        trigger=Trigger.SCHEDULE,
        schedule="30 4 * * *",
        transport=transport,
        owner="Controller",
    )


def _catalog(tmp_path: Path, database: str, sftp: SftpServer) -> Catalog:
    return Catalog(
        hub=HubSettings(database=database, data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(
                id="back_office",
                kind=SystemKind.BACK_OFFICE,
                connector="csv",
                owner="Controller",
                settings={"transport": sftp.settings(upload_dir=".")},
            ),
            System(
                id="payroll",
                kind=SystemKind.PAYROLL,
                connector="adp",
                owner="Payroll",
                settings={"company_code": "BIS", "transport": {"inbox_dir": str(tmp_path / "payroll")}},
            ),
        ],
        flows=[
            _flow("sales", "back_office", "sales_summary", "sftp"),
            _flow("mix", "back_office", "product_mix", "sftp"),
            _flow("labor", "back_office", "labor", "sftp"),
            _flow("pay", "payroll", "payroll", "folder"),
        ],
        mappings=Mappings(job_earning_codes={"server": "REG", "line_cook": "REG"}),
    )


def test_nightly_files_reach_the_back_office_and_reconcile(
    tmp_path: Path, database: str, sftp_server: SftpServer
) -> None:
    day = simulate_day(LOCATION, DAY, seed=11, scale=0.2)
    roster = staff_roster(LOCATION)

    async def scenario() -> tuple[list[RunResult], list[Transfer]]:
        async with Hub(_catalog(tmp_path, database, sftp_server), deliver=False) as hub:
            await store_day(hub, LOCATION, day, roster)
            jobs = FileJobs(hub)
            results = [await jobs.run(flow, LOCATION.id, DAY) for flow in ("sales", "mix", "labor")]
            results.append(await jobs.run("pay", LOCATION.id, DAY, DAY))
            return results, await hub.ledger.transfers()

    results, transfers = asyncio.run(scenario())
    assert [r.outcome for r in results] == [TransferOutcome.SUCCEEDED] * 4, [r.error for r in results]
    assert {t.flow_id for t in transfers} == {"sales", "mix", "labor", "pay"}
    assert all(t.business_date == DAY and t.checksum.startswith("sha256:") for t in transfers)

    summary_file = sftp_server.root / results[0].files[0]
    rows = read_csv(layout("sales_summary"), summary_file.read_bytes())
    [reread] = summaries_from_rows(rows)
    latest = {o.id: o for o in day.orders}  # a later version replaces an earlier one
    expected_orders = [o for o in latest.values() if o.business_date == DAY and o.state != "canceled"]
    expected = summarize_day(LOCATION, DAY, [o for o in latest.values() if o.business_date == DAY])
    assert reread == expected
    assert reread.checks > 0

    assert (sftp_server.root / results[1].files[0]).read_bytes().count(b"\n") > 10
    labor = list(csv.DictReader(io.StringIO((sftp_server.root / results[2].files[0]).read_text())))
    assert labor and {row["business_date"] for row in labor} == {DAY.isoformat()}

    [paydata] = results[3].files
    assert paydata == "PRBISEPI.csv"
    epi = (tmp_path / "payroll" / paydata).read_text()
    assert epi.startswith("Co Code,Batch ID,File #")
    # Every cent of tips rung on the POS (card and cash) reaches someone's pay, tips on unowned
    # (online) checks included.
    rung_tips = sum(p.tip.amount for o in expected_orders for p in o.payments)
    assert rung_tips > 0
    assert _earnings(epi, "T") == rung_tips


def _earnings(epi: str, code: str) -> int:
    """The sum, in cents, of the earnings columns that carry ``code`` in an ADP EPI file."""
    total = 0
    for row in csv.DictReader(io.StringIO(epi)):
        for n in (3, 4, 5):
            if row[f"Earnings {n} Code"] == code:
                total += round(Decimal(row[f"Earnings {n} Amount"]) * 100)
    return total
