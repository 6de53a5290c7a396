"""Manual imports: every kind of bad row named by row and column, good rows committed where the hub
reads them, bad rows quarantined as a CSV that imports again once fixed."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import expediter.demo
from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.check.catalog import HUB_IMPORTS, Severity, check_catalog
from expediter.engine import imports
from expediter.engine.hub import Hub
from expediter.engine.jobs import employees_at
from expediter.engine.purchasing import desk_of
from expediter.model.location import Location
from expediter.operations.imports import KINDS
from expediter.operations.inventory.counts import read_counts

DAY = date(2026, 11, 26)
LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")
RECIPES = Path(expediter.demo.__file__).parent / "recipes.toml"


def _flow(flow_id: str, data: str, source: str = "inventory", **settings: str) -> Flow:
    return Flow(
        id=flow_id,
        from_=source,
        to="inventory" if source != "pos" else "payroll",
        data=data,
        level=Level.MANUAL,
        trigger=Trigger.MANUAL,
        transport="upload",
        owner="GM",
        description=f"A manager imports the {data.replace('_', ' ')} file.",
        impact="The hub keeps the figures it had until the file is imported.",
        contact="gm@bistro.example",
        settings=dict(settings),
    )


def _catalog(tmp_path: Path) -> Catalog:
    return Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        locations=[LOCATION, Location(id="L002", name="Harbor", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(
                id="payroll",
                kind=SystemKind.PAYROLL,
                connector="adp",
                owner="GM",
                settings={"company_code": "X1"},
            ),
            System(
                id="inventory",
                kind=SystemKind.INVENTORY,
                connector="csv",
                owner="Chef",
                settings={"recipes": str(RECIPES)},
            ),
            System(id="valley", kind=SystemKind.VENDOR, connector="x12", owner="Chef"),
        ],
        flows=[
            _flow("counts", "inventory_counts"),
            _flow("roster", "employees", source="pos"),
            _flow("menu", "menu_items", source="pos"),
            _flow("recipes", "recipes"),
            _flow("prices", "price_list", source="valley"),
            _flow("invoices", "invoice", source="valley"),
        ],
    )


def _run(tmp_path: Path, scenario: Callable[[Hub], Awaitable[None]]) -> None:
    async def main() -> None:
        async with Hub(_catalog(tmp_path), deliver=False) as hub:
            await scenario(hub)

    asyncio.run(main())


def _request(hub: Hub, flow_id: str, name: str = "sheet.csv") -> imports.ImportRequest:
    flow = hub.catalog.flow(flow_id)
    assert flow is not None
    return imports.ImportRequest(flow=flow, location=LOCATION, business_date=DAY, file_name=name)


async def _read(hub: Hub, flow_id: str, data: bytes) -> imports.ImportRecord:
    return await imports.read_file(hub, _request(hub, flow_id), io.BytesIO(data), size=len(data))


async def _problems(hub: Hub, record: imports.ImportRecord) -> dict[int, list[tuple[str, str]]]:
    rows = await imports.bad_rows(hub.storage, record.id)
    return {row.row: [(p.column, p.message) for p in row.problems] for row in rows}


async def _quarantine(hub: Hub, import_id: int) -> list[dict[str, str]]:
    out = io.BytesIO()
    await imports.write_quarantine(hub.storage, import_id, out)
    assert out.getvalue().startswith(codecs.BOM_UTF8)
    return list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))


async def _count_rows(hub: Hub, table: str) -> int:
    row = await hub.storage.read(lambda tx: tx.one(f"SELECT COUNT(*) AS n FROM {table}"))
    return int(row["n"])


# -- count sheets ---------------------------------------------------------------------------------

SHEET = (
    "ingredient,unit,quantity\n"
    "bun,case,2\n"
    "saffron,g,2\n"
    "lettuce,lb,abc\n"
    "potato,lb,-3\n"
    "tomato,bushel,4\n"
    "onion,ml,5\n"
    ",each,1\n"
    "beef_patty,each,40\n"
)


def test_count_sheet_commits_the_good_rows_and_names_every_bad_one(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        record = await _read(hub, "counts", SHEET.encode())
        assert (record.state, record.rows_read, record.rows_good, record.rows_bad) == ("previewed", 8, 2, 6)
        problems = await _problems(hub, record)
        assert problems[3] == [("ingredient", "unknown ingredient 'saffron'")]
        assert problems[4] == [("quantity", "'abc' is not a number")]
        assert problems[5] == [("quantity", "'-3' is below 0")]
        assert problems[6] == [("unit", "unknown unit 'bushel'")]
        assert problems[7][0][0] == "unit" and "cannot convert ml to lb" in problems[7][0][1]
        assert problems[8] == [("ingredient", "is empty")]

        done = await imports.commit(hub, record.id, endpoint="tests")
        assert done.record.state is imports.ImportState.COMMITTED and not done.duplicate
        stored = await hub.inbox.latest_by_ref("inventory_counts", f"L001:{DAY.isoformat()}")
        assert stored is not None and stored.business_date == DAY
        lines = read_counts(stored.payload.decode())
        assert [(line.ingredient, line.quantity) for line in lines] == [("bun", 2), ("beef_patty", 40)]
        [transfer] = await hub.ledger.transfers()
        assert (transfer.level, transfer.transport, transfer.records) == ("manual", "upload", 2)
        assert transfer.error == "6 rows quarantined" and transfer.remote_ref == f"import {record.id}"

    _run(tmp_path, scenario)


def test_the_quarantine_round_trip(tmp_path: Path) -> None:
    """The bad rows come out as a CSV with their reasons; fixed and imported again, they join the
    day's sheet (the rows committed first stay)."""

    async def scenario(hub: Hub) -> None:
        first = await _read(hub, "counts", SHEET.encode())
        await imports.commit(hub, first.id)
        quarantined = await _quarantine(hub, first.id)
        assert list(quarantined[0]) == ["import_error", "ingredient", "unit", "quantity"]
        assert [row["ingredient"] for row in quarantined] == [
            "saffron",
            "lettuce",
            "potato",
            "tomato",
            "onion",
            "",
        ]
        assert quarantined[1]["import_error"].startswith("row 4: column quantity: 'abc' is not a number")
        assert quarantined[2]["quantity"] == "'-3"  # written inert: a spreadsheet shows text, runs nothing

        fixed = io.StringIO()
        writer = csv.DictWriter(fixed, fieldnames=list(quarantined[0]))
        writer.writeheader()
        corrections = {"saffron": ("cheddar", "lb", "3"), "lettuce": ("lettuce", "lb", "6")}
        for row in quarantined[:2]:
            row["ingredient"], row["unit"], row["quantity"] = corrections[row["ingredient"]]
            writer.writerow(row)
        writer.writerow({**quarantined[2], "quantity": "'30"})  # the spreadsheet kept the apostrophe
        again = await _read(hub, "counts", codecs.BOM_UTF8 + fixed.getvalue().encode())
        assert (again.continues, again.rows_good, again.rows_bad) == (True, 3, 0)
        assert again.header == ["ingredient", "unit", "quantity"]
        await imports.commit(hub, again.id)

        stored = await hub.inbox.latest_by_ref("inventory_counts", f"L001:{DAY.isoformat()}")
        assert stored is not None
        counted = {line.ingredient: line.quantity for line in read_counts(stored.payload.decode())}
        assert counted == {"bun": 2, "beef_patty": 40, "cheddar": 3, "lettuce": 6, "potato": 30}

    _run(tmp_path, scenario)


def test_the_same_file_twice_is_imported_once(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        for round_ in range(2):
            record = await _read(hub, "counts", SHEET.encode())
            done = await imports.commit(hub, record.id)
            assert done.duplicate is bool(round_)
        assert await _count_rows(hub, "messages") == 1
        transfers = await hub.ledger.transfers()
        assert sorted(t.outcome for t in transfers) == ["duplicate", "succeeded"]

    _run(tmp_path, scenario)


def test_a_dry_run_keeps_nothing(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        out = io.BytesIO()
        data = SHEET.encode()
        record, bad, samples = await imports.dry_run(
            hub, _request(hub, "counts"), io.BytesIO(data), size=len(data), quarantine=out
        )
        assert (record.rows_good, len(bad), [s.cells for s in samples]) == (
            2,
            6,
            [["bun", "case", "2"], ["beef_patty", "each", "40"]],
        )
        assert out.getvalue().decode("utf-8-sig").count("\r\n") == 7
        for table in ("imports", "import_rows", "messages", "transfers"):
            assert await _count_rows(hub, table) == 0, table

    _run(tmp_path, scenario)


# -- files that cannot be read at all ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"ingredient,unit\nbun,each\n", "the count sheet has no quantity column"),
        (b"", "the file is empty"),
        (b'ingredient,unit,quantity\nbun,"each,1\n' + b"x" * 200_000 + b"\n", "row 2 cannot be read"),
    ],
)
def test_a_file_that_cannot_be_read_fails_whole(tmp_path: Path, data: bytes, error: str) -> None:
    async def scenario(hub: Hub) -> None:
        record = await _read(hub, "counts", data)
        assert record.state is imports.ImportState.FAILED and error in record.error
        assert await _count_rows(hub, "import_rows") == 0
        with pytest.raises(Exception, match="not previewed"):
            await imports.commit(hub, record.id)

    _run(tmp_path, scenario)


@pytest.mark.parametrize("written", ["4111 1111 1111 1111", "CC-4539578763621486", "\uff14111111111111111"])
def test_a_card_number_in_any_row_fails_the_file_and_nothing_of_it_is_kept(
    tmp_path: Path, written: str
) -> None:
    digits = "".join(str(int(char)) for char in written if char.isdecimal())
    good = "".join(f"bun,each,{n}\n" for n in range(1, 601))  # more rows than one staging batch
    sheet = f"ingredient,unit,quantity,note\n{good}beef_patty,each,4,paid with {written}\n"

    async def scenario(hub: Hub) -> None:
        record = await _read(hub, "counts", sheet.encode())
        assert record.state is imports.ImportState.FAILED
        assert "card number" in record.error and "row 602" in record.error
        assert digits not in record.error and written not in record.error
        assert await _count_rows(hub, "import_rows") == 0

    _run(tmp_path, scenario)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert digits.encode() not in path.read_bytes(), path.name
            assert written.encode() not in path.read_bytes(), path.name


# -- encodings and Excel ---------------------------------------------------------------------------

_TEXT = "ingredient;unit;quantity\r\nbun;case;2,5\r\ncheddar;lb;1.250,5\r\n"


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (codecs.BOM_UTF8 + _TEXT.encode(), "UTF-8 with BOM"),
        (codecs.BOM_UTF16_LE + _TEXT.encode("utf-16-le"), "UTF-16 LE"),
        (codecs.BOM_UTF16_BE + _TEXT.encode("utf-16-be"), "UTF-16 BE"),
        (
            _TEXT.replace("bun", "bun").encode("cp1252") + "tomato;lb;3 \u00a0\r\n".encode("cp1252"),
            "Windows-1252",
        ),
    ],
)
def test_excel_files_in_every_encoding(tmp_path: Path, data: bytes, label: str) -> None:
    """Semicolons and decimal commas (Excel where the decimal mark is a comma) read as meant."""

    async def scenario(hub: Hub) -> None:
        record = await _read(hub, "counts", data)
        assert record.encoding_label == label and record.delimiter == ";"
        assert record.rows_bad == 0, await _problems(hub, record)
        await imports.commit(hub, record.id)
        stored = await hub.inbox.latest_by_ref("inventory_counts", f"L001:{DAY.isoformat()}")
        assert stored is not None
        counted = {line.ingredient: line.quantity for line in read_counts(stored.payload.decode())}
        assert counted["bun"] == Decimal("2.5") and counted["cheddar"] == Decimal("1250.5")

    _run(tmp_path, scenario)


def test_rows_the_file_itself_spoils(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        data = "ingredient,unit,quantity,note\nbun,each,1,250,x\nbeef_patty,each,4,crème\n".encode()
        filler = b"bun,each,1,\n" * 10_000  # the byte comes after the part the encoding is told from
        record = await _read(hub, "counts", data + filler + b"lettuce,lb,2,caf\xe9\n")
        problems = await _problems(hub, record)
        assert problems[2][0] == ("", "the row has 5 cells but the header names 4 columns")
        assert problems[10_004] == [("", "the row holds characters the file's encoding cannot read")]
        assert record.rows_good == 10_001 and record.unknown_columns == ["note"]

    _run(tmp_path, scenario)


# -- every kind ------------------------------------------------------------------------------------

ROSTER = (
    "employee_id,name,job_code,job_name,hourly_wage,tipped,manager,payroll_id\n"
    "E1,Ana Ruiz,server,Server,2.13,yes,,F100\n"
    "E1,Ana Ruiz,host,Host,15.00,no,,F100\n"
    "E2,Ben Ode,cook,Line cook,19.50,,,F101\n"
    "E3,Cy Park,cook,Line cook,abc,,,F102\n"
    "E3,Cy Park,prep,Prep,17.00,,,F102\n"
)


def test_employees_commit_to_the_roster_payroll_reads(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        record = await _read(hub, "roster", ROSTER.encode())
        problems = await _problems(hub, record)
        assert problems[5] == [("hourly_wage", "'abc' is not a number")]
        assert "row 5 of E3 is bad" in problems[6][0][1]  # an employee is kept or quarantined whole
        await imports.commit(hub, record.id)
        roster = {e.id: e for e in await employees_at(hub, "L001")}
        assert sorted(roster) == ["E1", "E2"]
        assert [(j.code, j.hourly_wage.amount, j.tipped) for j in roster["E1"].jobs] == [
            ("server", 213, True),
            ("host", 1500, False),
        ]
        assert roster["E1"].payroll_id == "F100"

    _run(tmp_path, scenario)


def test_menu_recipes_prices_and_invoices_go_where_the_hub_keeps_them(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        menu = (
            "item_id,name,category,price,stations,course,available\nB1,Burger,burgers,14.50,grill fry,1,yes\n"
        )
        recipes = (
            "recipe,ingredient,sub_recipe,quantity,unit,plu\n"
            "burger,beef_patty,,2,each,1101\nburger,bun,,1,each,\n"
        )
        prices = (
            "vendor_item,description,unit,unit_price,ingredient\n"
            "1001,Buns 48 ct,CS,16.80,bun\n1002,Patties,CS,74.00,\n"
        )
        invoice = (
            "invoice_number,invoice_date,vendor_item,description,quantity,unit,unit_cost\n"
            "INV-9,2026-11-25,1001,Buns,2,CS,16.80\nINV-9,2026-11-25,1002,Patties,1,CS,74.00\n"
        )
        for flow_id, data in (
            ("menu", menu),
            ("recipes", recipes),
            ("prices", prices),
            ("invoices", invoice),
        ):
            record = await _read(hub, flow_id, data.encode())
            assert record.rows_bad == 0, (flow_id, await _problems(hub, record))
            await imports.commit(hub, record.id)
        [item] = await hub.inbox.all_by_ref("menu_items", "B1")
        assert b'"stations":["grill","fry"]' in item.payload and b'"amount":1450' in item.payload
        [recipe] = await hub.inbox.all_by_ref("recipes", "burger")
        assert recipe.payload.count(b'"quantity"') == 2 and b'"plu":"1101"' in recipe.payload
        listed = [item async for item in imports.price_list(hub.storage, "prices")]
        assert [(i.vendor_item, i.unit_price, i.ingredient) for i in listed] == [
            ("1001", Decimal("16.80"), "bun"),
            ("1002", Decimal("74.00"), ""),
        ]
        [stored] = await desk_of(hub).store.invoices()
        assert (stored.vendor, stored.invoice_number) == ("valley", "INV-9")

    _run(tmp_path, scenario)


@pytest.mark.parametrize(
    ("flow_id", "data", "row", "expected"),
    [
        (
            "roster",
            "employee_id,name,job_code,job_name,hourly_wage\nE1,,cook,Cook,18\n",
            2,
            ("name", "is empty"),
        ),
        (
            "roster",
            "employee_id,name,job_code,job_name,hourly_wage\nE1,A,cook,Cook,18.005\n",
            2,
            ("hourly_wage", "'18.005' has more than two decimals"),
        ),
        (
            "roster",
            "employee_id,name,job_code,job_name,hourly_wage,location_id\nE1,A,cook,Cook,18,L9\n",
            2,
            ("location_id", "unknown location 'L9'"),
        ),
        (
            "roster",
            "employee_id,name,job_code,job_name,hourly_wage,tipped\nE1,A,cook,Cook,18,maybe\n",
            2,
            ("tipped", "'maybe' is not yes or no"),
        ),
        (
            "roster",
            "employee_id,name,job_code,job_name,hourly_wage\nE1,A,cook,Cook,18\nE1,B,prep,Prep,18\n",
            3,
            ("name", "'B' differs from 'A' in row 2"),
        ),
        (
            "roster",
            "employee_id,name,job_code,job_name,hourly_wage\nE1,A,cook,Cook,18\nE1,A,cook,Cook,19\n",
            3,
            ("job_code", "job 'cook' is listed twice for E1"),
        ),
        ("menu", "item_id,name,category,price\nB1,Burger,burgers,\n", 2, ("price", "is empty")),
        (
            "menu",
            "item_id,name,category,price,course\nB1,Burger,burgers,1,12\n",
            2,
            ("course", "course 12 is not 1 to 9"),
        ),
        (
            "menu",
            "item_id,name,category,price,stations\nB1,Burger,burgers,1,grill!\n",
            2,
            ("stations", "'grill!' is not a station name"),
        ),
        (
            "menu",
            "item_id,name,category,price,kind\nB1,Burger,burgers,1,combo\n",
            2,
            ("kind", "'combo' is not item or gift_card"),
        ),
        (
            "menu",
            "item_id,name,category,price\nB1,Burger,burgers,1\nB1,Burger,burgers,2\n",
            3,
            ("", "B1 is listed again (first in row 2)"),
        ),
        (
            "recipes",
            "recipe,ingredient,sub_recipe,quantity,unit\nburger,,,1,each\n",
            2,
            ("ingredient", "name an ingredient or a sub_recipe (one of the two)"),
        ),
        (
            "recipes",
            "recipe,ingredient,sub_recipe,quantity,unit\nburger,bun,,0,each\n",
            2,
            ("quantity", "must be more than 0"),
        ),
        (
            "recipes",
            "recipe,ingredient,sub_recipe,quantity,unit,yield\nburger,bun,,1,each,1.5\n",
            2,
            ("yield", "'1.5' is not between 0 and 1"),
        ),
        (
            "recipes",
            "recipe,ingredient,sub_recipe,quantity,unit\nburger,caviar,,1,each\n",
            2,
            ("ingredient", "unknown ingredient 'caviar'"),
        ),
        (
            "prices",
            "vendor_item,description,unit,unit_price\n1001,Buns,CS,-1\n",
            2,
            ("unit_price", "'-1' is below 0"),
        ),
        (
            "prices",
            "vendor_item,description,unit,unit_price,effective_date\n1001,Buns,CS,1,12/01/2026\n",
            2,
            ("effective_date", "'12/01/2026' is not a date"),
        ),
        (
            "prices",
            "vendor_item,description,unit,unit_price\n1001,Buns,CS,1\n1001,Buns,CS,2\n",
            3,
            ("", "1001 is listed again (first in row 2)"),
        ),
        (
            "invoices",
            "invoice_number,invoice_date,vendor_item,quantity,unit_cost\nI1,2026-11-31,1001,1,2\n",
            2,
            ("invoice_date", "'2026-11-31' is not a date"),
        ),
        (
            "invoices",
            "invoice_number,invoice_date,vendor_item,quantity,unit_cost\nI1,2026-11-20,1001,1,2\n"
            "I1,2026-11-21,1002,1,2\n",
            3,
            ("invoice_date", "differs from row 2 of invoice I1"),
        ),
        (
            "invoices",
            "invoice_number,invoice_date,vendor_item,quantity,unit_cost\nI1,2026-11-20,1001,,2\n"
            "I1,2026-11-20,1002,1,2\n",
            3,
            (
                "",
                "row 2 of I1 is bad, and the rows of one vendor invoices entry are"
                " kept or quarantined together",
            ),
        ),
    ],
)
def test_each_kind_of_bad_row(
    tmp_path: Path, flow_id: str, data: str, row: int, expected: tuple[str, str]
) -> None:
    async def scenario(hub: Hub) -> None:
        record = await _read(hub, flow_id, data.encode())
        problems = await _problems(hub, record)
        assert expected in problems.get(row, []), problems
        quarantined = await _quarantine(hub, record.id)
        assert any(line["import_error"].startswith(f"row {row}: ") for line in quarantined)

    _run(tmp_path, scenario)


def test_a_long_price_list_is_staged_in_pieces_and_read_back_in_pages(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        rows = "".join(f"{n},Item {n},EA,{n % 97}.25\n" for n in range(1, 2_601))
        data = ("vendor_item,description,unit,unit_price\n" + rows + "17,Again,EA,1\n").encode()
        progress: list[tuple[int, int]] = []
        record = await imports.read_file(
            hub,
            _request(hub, "prices"),
            io.BytesIO(data),
            size=len(data),
            progress=lambda b, r: progress.append((b, r)),
        )
        assert (record.rows_read, record.rows_good, record.rows_bad) == (2_601, 2_600, 1)
        assert [r for _, r in progress] == [500, 1000, 1500, 2000, 2500, 2601] and progress[-1][0] == len(
            data
        )
        await imports.commit(hub, record.id)
        listed = [item.vendor_item async for item in imports.price_list(hub.storage, "prices", page=700)]
        assert listed == [str(n) for n in range(1, 2_601)]

    _run(tmp_path, scenario)


def test_commit_twice_at_once_commits_once(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        record = await _read(hub, "roster", ROSTER.encode())
        results = await asyncio.gather(
            imports.commit(hub, record.id), imports.commit(hub, record.id), return_exceptions=True
        )
        assert sum(isinstance(r, imports.Committed) for r in results) == 1
        assert len(await hub.ledger.transfers()) == 1

    _run(tmp_path, scenario)


def test_every_kind_is_a_manual_import_check_accepts(tmp_path: Path) -> None:
    assert set(KINDS) == HUB_IMPORTS
    errors = [p for p in check_catalog(_catalog(tmp_path), tmp_path) if p.severity is Severity.ERROR]
    assert errors == []
