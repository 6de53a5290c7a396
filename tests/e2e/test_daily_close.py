"""The daily close, end to end: a simulated day in the hub's store → the journal in beancount (read
back by beancount's own loader), a held day released after its mapping is added, the chef's usage
and variance files over a real SFTP server, count sheets imported by hand, manual exports."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from beancount import loader
from beancount.core.data import Transaction
from typer.testing import CliRunner

import expediter.demo
from expediter.catalog.schema import Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.cli import app
from expediter.commands.journal import held_entries, release_journal
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs, RunResult
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model.location import Location
from expediter.operations.accounting import HoldState
from expediter.operations.accounting.export import journal_queue_path
from expediter.sim.day import DaySimulation, simulate_day
from expediter.sim.staff import staff_roster
from tests.e2e.support import store_day
from tests.servers import SftpServer

DAY = date(2026, 11, 26)
LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")
RECIPES = Path(expediter.demo.__file__).parent / "recipes.toml"
JOURNAL_FILE = "journal_L001_20261126.beancount"
WIDE = {"COLUMNS": "200"}
CATEGORIES = {
    "Starters": "4000 Food Sales",
    "Burgers": "4000 Food Sales",
    "Entrees": "4000 Food Sales",
    "Salads": "4000 Food Sales",
    "Sides": "4000 Food Sales",
    "Desserts": "4010 Dessert Sales",
    "Beer": "4100 Beer Sales",
    "Wine": "4110 Wine Sales",
    "Cocktails": "4120 Liquor Sales",
    "Non-alcoholic": "4200 Beverage Sales",
}
MAPPINGS = Mappings(
    category_accounts=CATEGORIES,
    discount_accounts={"employee meal": "4910 Employee Meals", "happy hour": "4900 Discounts"},
    tender_accounts={"cash": "1000 Cash", "card": "1010 Card Clearing", "marketplace": "1020 Marketplace"},
    accounts={
        "sales_tax": "2100 Sales Tax Payable",
        "tips_payable": "2200 Tips Payable",
        "service_charges": "4500 Service Charges",
        "gift_cards": "2300 Gift Card Liability",
        "cash_over_short": "6900 Cash Over Short",
        "comps": "4950 Comps",
        "refunds": "4960 Refunds",
        "unpaid_checks": "1200 Unpaid Checks",
    },
    job_earning_codes={"server": "REG", "line_cook": "REG"},
)
COUNTS_OPENING = (
    "ingredient,unit,quantity\nbeef_patty,each,300\nbun,each,400\nlettuce,lb,150\npotato,lb,200\n"
)
COUNTS_CLOSING = "ingredient,unit,quantity\nbeef_patty,each,120\nbun,each,130\nlettuce,lb,30\npotato,lb,60\n"


def _flow(flow_id: str, to: str, data: str, transport: str, level: Level = Level.FILE) -> Flow:
    manual = level is Level.MANUAL
    return Flow(
        id=flow_id,
        from_="inventory" if manual else "pos",
        to=to,
        data=data,
        level=level,
        trigger=Trigger.MANUAL if manual else Trigger.SCHEDULE,
        schedule=None if manual else "0 5 * * *",
        transport=transport,
        owner="Controller",
    )


def _catalog(tmp_path: Path, sftp: SftpServer, mappings: Mappings = MAPPINGS) -> Catalog:
    return Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(
                id="books",
                kind=SystemKind.ACCOUNTING,
                connector="beancount",
                owner="Controller",
                settings={"payee": "Bistro", "transport": {"inbox_dir": str(tmp_path / "books")}},
            ),
            System(
                id="inventory",
                kind=SystemKind.INVENTORY,
                connector="csv",
                owner="Chef",
                settings={"recipes": str(RECIPES), "transport": sftp.settings(upload_dir=".")},
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
            _flow("journal", "books", "journal", "folder"),
            _flow("usage", "inventory", "inventory_usage", "sftp"),
            _flow("reorder", "inventory", "purchase_order", "sftp"),
            _flow("pay", "payroll", "payroll", "folder"),
            _flow("counts", "inventory", "inventory_counts", "upload", Level.MANUAL),
        ],
        mappings=mappings,
    )


def _write(path: Path, catalog: Catalog) -> Path:
    """The CLI reads JSON catalogs with the same schema as TOML ones."""
    path.write_bytes(msgspec.json.encode(catalog))
    return path


@pytest.fixture(scope="module")
def simulated() -> DaySimulation:
    return simulate_day(LOCATION, DAY, seed=11, scale=0.2)


@pytest.fixture
def stored(tmp_path: Path, sftp_server: SftpServer, simulated: DaySimulation) -> Iterator[Catalog]:
    """A hub database holding the simulated day; yields the full catalog."""
    catalog = _catalog(tmp_path, sftp_server)

    async def fill() -> None:
        async with Hub(catalog, deliver=False) as hub:
            await store_day(hub, LOCATION, simulated, staff_roster(LOCATION))

    asyncio.run(fill())
    yield catalog


def _run(catalog: Catalog, flow: str, day: date = DAY) -> tuple[RunResult, list[Transfer]]:
    async def scenario() -> tuple[RunResult, list[Transfer]]:
        async with Hub(catalog, deliver=False) as hub:
            result = await FileJobs(hub).run(flow, LOCATION.id, day)
            return result, await hub.ledger.transfers(flow_id=flow)

    return asyncio.run(scenario())


def _ledger(catalog: Catalog) -> list[Transfer]:
    async def read() -> list[Transfer]:
        async with Hub(catalog, deliver=False) as hub:
            return await hub.ledger.transfers()

    return asyncio.run(read())


def _assert_loads_and_balances(path: Path) -> None:
    entries, errors, _options = loader.load_file(str(path))
    assert errors == [], [e.message for e in errors]
    [transaction] = [e for e in entries if isinstance(e, Transaction)]
    numbers = [p.units.number for p in transaction.postings if p.units is not None]
    assert len(numbers) == len(transaction.postings) > 10
    assert sum(n for n in numbers if n is not None) == 0


def test_journal_reaches_the_books_and_balances(stored: Catalog, tmp_path: Path) -> None:
    result, transfers = _run(stored, "journal")
    assert result.outcome is TransferOutcome.SUCCEEDED, result.error
    assert result.files == [JOURNAL_FILE]
    _assert_loads_and_balances(tmp_path / "books" / JOURNAL_FILE)
    [transfer] = transfers
    assert transfer.file_name == JOURNAL_FILE and transfer.business_date == DAY
    assert held_entries(stored) == []
    again, _ = _run(stored, "journal")  # a re-run replaces the night's file
    assert again.files == [JOURNAL_FILE] and len(list((tmp_path / "books").glob("journal_*"))) == 1


def test_an_unmapped_day_is_held_then_released_once_mapped(stored: Catalog, tmp_path: Path) -> None:
    unmapped = {k: v for k, v in CATEGORIES.items() if k != "Desserts"}
    partial = msgspec.structs.replace(
        stored, mappings=msgspec.structs.replace(MAPPINGS, category_accounts=unmapped)
    )
    config = _write(tmp_path / "expediter.json", partial)

    result, transfers = _run(partial, "journal")
    assert result.outcome is TransferOutcome.FAILED
    assert "category_accounts.'Desserts'" in result.error
    assert '[mappings.category_accounts]\n"Desserts" = ' in result.error
    assert [t.outcome for t in transfers] == [TransferOutcome.FAILED]
    assert not (tmp_path / "books" / JOURNAL_FILE).exists()
    assert not journal_queue_path(partial).exists()  # held in the hub's database, not a file beside it
    [held] = held_entries(partial)
    assert (held.location_id, held.business_date, held.state) == ("L001", DAY, HoldState.HELD)
    assert [m.key for m in held.missing] == ["Desserts"]

    runner = CliRunner()
    listing = runner.invoke(app, ["journal", "held", "-c", str(config)], env=WIDE)
    assert listing.exit_code == 0, listing.output
    assert "L001" in listing.output and "2026-11-26" in listing.output
    assert "category_accounts.Desserts" in listing.output

    async def still_unmapped() -> list[str]:
        async with Hub(partial, deliver=False) as hub:
            outcome = await release_journal(hub, "L001", DAY)
        assert not outcome.released
        return [m.key for m in outcome.missing]

    assert asyncio.run(still_unmapped()) == ["Desserts"]
    refused = runner.invoke(app, ["journal", "release", "L001", "2026-11-26", "-c", str(config)])
    assert refused.exit_code == 1 and "Desserts" in refused.output

    _write(config, stored)  # the manager adds the mapping
    released = runner.invoke(app, ["journal", "release", "L001", "2026-11-26", "-c", str(config)])
    assert released.exit_code == 0, released.output
    assert "released" in released.output
    _assert_loads_and_balances(tmp_path / "books" / JOURNAL_FILE)
    assert held_entries(stored) == []
    outcomes = [t.outcome for t in _ledger(stored) if t.flow_id == "journal"]
    assert sorted(outcomes) == sorted([TransferOutcome.FAILED, TransferOutcome.SUCCEEDED])


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_usage_reports_items_without_a_recipe(stored: Catalog, sftp_server: SftpServer) -> None:
    result, _ = _run(stored, "usage")
    assert result.outcome is TransferOutcome.SUCCEEDED, result.error
    assert result.files == ["inventory_usage_v1_L001_20261126.csv", "missing_recipes_v1_L001_20261126.csv"]
    usage = {row["ingredient"]: row for row in _rows(sftp_server.root / result.files[0])}
    assert Decimal(usage["beef_patty"]["theoretical_quantity"]) > 0
    assert Decimal(usage["beef_patty"]["cost"]) == (
        Decimal(usage["beef_patty"]["theoretical_quantity"]) * Decimal("1.85")
    ).quantize(Decimal("0.01"))
    missing = _rows(sftp_server.root / result.files[1])
    items = [row for row in missing if row["kind"] == "item"]
    assert [(row["key"], row["name"]) for row in items] == [("1004", "Fried Calamari")]
    assert Decimal(items[0]["quantity"]) > 0


def _invoke(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(app, list(args), env=WIDE)
    return outcome.exit_code, outcome.output


def _count_messages(catalog: Catalog) -> int:
    async def count() -> int:
        async with Hub(catalog, deliver=False) as hub:
            row = await hub.storage.read(
                lambda tx: tx.one("SELECT count(*) AS n FROM messages WHERE kind = 'inventory_counts'")
            )
            return int(row["n"]) if row is not None else 0

    return asyncio.run(count())


def test_counts_import_then_variance(stored: Catalog, tmp_path: Path, sftp_server: SftpServer) -> None:
    config = str(_write(tmp_path / "expediter.json", stored))
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    (sheets / "no-quantity.csv").write_text("ingredient,unit\nbun,each\n")
    (sheets / "bad-number.csv").write_text("ingredient,unit,quantity\nbun,each,12\nlettuce,lb,abc\n")
    (sheets / "opening.csv").write_text(COUNTS_OPENING)
    (sheets / "closing.csv").write_text(COUNTS_CLOSING)
    base = ["import", "counts", "-c", config, "--location", "L001"]

    code, output = _invoke(*base, str(sheets / "no-quantity.csv"), "--date", str(DAY))
    assert code == 1 and "quantity" in output and "row 1" in output
    code, output = _invoke(*base, str(sheets / "bad-number.csv"), "--date", str(DAY), "--dry-run")
    assert code == 2 and "'abc' is not a number" in output and "2 rows: 1 good, 1 to quarantine" in output
    code, output = _invoke(*base, str(sheets / "closing.csv"), "--date", str(DAY), "--dry-run")
    assert code == 0, output
    assert "dry run: nothing stored" in output and "beef_patty" in output
    assert _count_messages(stored) == 0
    assert [t for t in _ledger(stored) if t.direction is Direction.IN] == []

    code, output = _invoke(*base, str(sheets / "opening.csv"), "--date", str(DAY - timedelta(days=1)))
    assert code == 0, output
    code, output = _invoke(*base, str(sheets / "closing.csv"), "--date", str(DAY))
    assert code == 0, output
    assert _count_messages(stored) == 2
    inbound = [t for t in _ledger(stored) if t.direction is Direction.IN]
    assert {(t.flow_id, t.level, t.transport, t.records) for t in inbound} == {
        ("counts", "manual", "upload", 4)
    }
    assert {t.business_date for t in inbound} == {DAY, DAY - timedelta(days=1)}

    result, _ = _run(stored, "usage")
    assert result.outcome is TransferOutcome.SUCCEEDED, result.error
    assert result.files[-1] == "inventory_variance_v1_L001_20261126.csv"
    variance = {row["ingredient"]: row for row in _rows(sftp_server.root / result.files[-1])}
    patties = variance["beef_patty"]
    assert (patties["status"], Decimal(patties["actual"])) == ("counted", Decimal(180))
    assert Decimal(patties["variance"]) == Decimal(180) - Decimal(patties["theoretical"])
    assert variance["cheddar"]["status"] == "not_counted"

    reorder, _ = _run(stored, "reorder")
    assert reorder.outcome is TransferOutcome.SUCCEEDED, reorder.error
    ordered = {row["ingredient"]: row for row in _rows(sftp_server.root / reorder.files[0])}
    assert (ordered["potato"]["cases"], ordered["potato"]["vendor"]) == ("2", "valley-foods")  # 60 → par 150
    assert "lettuce" not in ordered and "beef_patty" not in ordered  # above their reorder points


def test_manual_export_writes_files_into_a_folder(stored: Catalog, tmp_path: Path) -> None:
    config = str(_write(tmp_path / "expediter.json", stored))
    out = tmp_path / "out"
    code, output = _invoke("export", "journal", "--date", str(DAY), "-o", str(out), "-c", config)
    assert code == 0, output
    _assert_loads_and_balances(out / JOURNAL_FILE)
    code, output = _invoke("export", "inventory_usage", "--date", str(DAY), "-o", str(out), "-c", config)
    assert code == 0, output
    code, output = _invoke(
        "export", "payroll", "--from", "2026-11-20", "--to", str(DAY), "-o", str(out), "-c", config
    )
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            JOURNAL_FILE,
            "PRBISEPI.csv",
            "inventory_usage_v1_L001_20261126.csv",
            "missing_recipes_v1_L001_20261126.csv",
        ]
    )
    manual = [t for t in _ledger(stored) if t.level == "manual"]
    assert len(manual) == 4 and {t.outcome for t in manual} == {TransferOutcome.SUCCEEDED}
    assert {t.direction for t in manual} == {Direction.OUT}
    code, output = _invoke("export", "labor", "--date", str(DAY), "-o", str(out), "-c", config)
    assert code == 1 and "no flow carries labor" in output
