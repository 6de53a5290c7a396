"""``expediter import`` / ``expediter export``: every bad input says what to fix, and stores nothing."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
from pathlib import Path

import pytest

from expediter.catalog.paths import data_dir as hub_data_dir
from expediter.catalog.schema import Catalog
from expediter.engine.hub import Hub
from expediter.ledger.transfers import Transfer
from expediter.operations.accounting.export import journal_queue_path
from tests.commands.helpers import DAY, catalog, invoke, store_day, write_catalog


@pytest.fixture
def stored(tmp_path: Path, database: str) -> tuple[Catalog, str]:
    found = catalog(tmp_path, database=database)
    store_day(found)
    return found, write_catalog(tmp_path, found)


def _ledger(found: Catalog) -> list[Transfer]:
    async def read() -> list[Transfer]:
        async with Hub(found, deliver=False) as hub:
            return await hub.ledger.transfers()

    return asyncio.run(read())


def test_quickbooks_writes_iif_by_default_and_qbo_json_on_request(
    stored: tuple[Catalog, str], tmp_path: Path
) -> None:
    _, config = stored
    out = tmp_path / "out"
    code, output = invoke(
        "export", "journal", "--date", str(DAY), "--flow", "qb-iif", "-o", str(out), "-c", config
    )
    assert code == 0, output
    iif = (out / "journal_L001_20261126.iif").read_bytes()
    assert iif.startswith(b"!TRNS") and b"ENDTRNS\r\n" in iif
    code, output = invoke(
        "export", "journal", "--date", str(DAY), "--flow", "qb-json", "-o", str(out), "-c", config
    )
    assert code == 0, output
    body = json.loads((out / "journal_L001_20261126.json").read_text())
    lines = body["Line"]
    debits = sum(
        float(ln["Amount"]) for ln in lines if ln["JournalEntryLineDetail"]["PostingType"] == "Debit"
    )
    credits = sum(
        float(ln["Amount"]) for ln in lines if ln["JournalEntryLineDetail"]["PostingType"] == "Credit"
    )
    assert round(debits, 2) == round(credits, 2) > 0


def test_xero_writes_a_manual_journal_csv(stored: tuple[Catalog, str], tmp_path: Path) -> None:
    _, config = stored
    code, output = invoke(
        "export", "journal", "--date", str(DAY), "--flow", "xero-journal", "-o", str(tmp_path), "-c", config
    )
    assert code == 0, output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "journal_L001_20261126.csv").read_text())))
    assert rows and {row["*Narration"] for row in rows} == {rows[0]["*Narration"]}
    assert sum(round(float(row["*Amount"]) * 100) for row in rows) == 0


def test_export_records_a_manual_transfer_per_file(stored: tuple[Catalog, str], tmp_path: Path) -> None:
    found, config = stored
    code, output = invoke(
        "export", "sales_summary", "--date", str(DAY), "-o", str(tmp_path / "o"), "-c", config
    )
    assert code == 0, output
    [transfer] = _ledger(found)
    assert (transfer.flow_id, transfer.level, transfer.transport) == ("sales", "manual", "download")
    assert transfer.file_name == "sales_summary_v1_L001_20261126.csv" and transfer.records > 0
    assert (tmp_path / "o" / transfer.file_name).read_bytes().startswith(b"location_id,")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "payroll", "--from", "2026-11-20"], "payroll needs --from and --to"),
        (["export", "journal"], "journal needs --date"),
        (["export", "journal", "--date", "26/11/2026"], "use YYYY-MM-DD"),
        (["export", "journal", "--date", "2026-11-26", "--from", "2026-11-20"], "not both"),
        (["export", "journal", "--date", "2026-11-26", "--location", "L404"], "no location 'L404'"),
        (["export", "labor", "--date", "2026-11-26"], "no flow carries labor"),
    ],
)
def test_export_refuses_unclear_requests(stored: tuple[Catalog, str], args: list[str], message: str) -> None:
    found, config = stored
    code, output = invoke(*args, "-c", config)
    assert code != 0 and message in " ".join(output.split()), output
    assert _ledger(found) == []


def test_import_commits_the_good_rows_and_quarantines_the_rest(
    stored: tuple[Catalog, str], tmp_path: Path
) -> None:
    found, config = stored
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("ingredient,unit,quantity\nbun,each,10\nsaffron,g,2\nlettuce,lb,abc\n")
    out = tmp_path / "fix-me.csv"
    code, output = invoke(
        "import", "counts", str(sheet), "--date", str(DAY), "--quarantine", str(out), "-c", config
    )
    assert code == 2, output
    assert "3 rows: 1 good, 2 to quarantine" in output and "unknown ingredient 'saffron'" in output
    assert "'abc' is not a number" in output and "2 rows written to" in output
    [transfer] = _ledger(found)
    assert (transfer.records, transfer.error) == (1, "2 rows quarantined")
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(row["ingredient"], row["import_error"][:6]) for row in rows] == [
        ("saffron", "row 3:"),
        ("lettuce", "row 4:"),
    ]

    out.write_text(
        "import_error,ingredient,unit,quantity\nwas bad,cheddar,lb,2\nwas bad,lettuce,lb,3\n",
        encoding="utf-8-sig",
    )
    code, output = invoke("import", "counts", str(out), "--date", str(DAY), "-c", config)
    assert code == 0 and "2 rows: 2 good, 0 to quarantine" in output, output


def test_import_refuses_what_it_cannot_read(stored: tuple[Catalog, str], tmp_path: Path) -> None:
    found, config = stored
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("ingredient,unit\nbun,each\n")
    code, output = invoke("import", "counts", str(sheet), "--date", str(DAY), "-c", config)
    assert code == 1 and "has no quantity column" in output, output
    code, output = invoke("import", "sales-upload", str(sheet), "--date", str(DAY), "-c", config)
    assert code == 1 and "importing 'sales_summary' is not supported" in output
    sheet.write_text("ingredient,unit,quantity\n")
    code, output = invoke("import", "counts", str(sheet), "--date", str(DAY), "-c", config)
    assert code == 1 and "no rows below its header" in output
    sheet.write_text("ingredient,unit,quantity\nsaffron,g,1\n")
    code, output = invoke("import", "counts", str(sheet), "--date", str(DAY), "-c", config)
    assert code == 1 and "nothing imported" in output
    assert _ledger(found) == []


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + b"ingredient;unit;quantity\r\nbun;each;2,5\r\n",
        codecs.BOM_UTF16_LE + "ingredient\tunit\tquantity\r\nbun\teach\t2.5\r\n".encode("utf-16-le"),
        "Ingredient ,Unit,Quantity,,\r\nbun,each,2.5,,\r\n".encode("cp1252"),
    ],
    ids=["utf-8 BOM semicolons", "utf-16 tabs", "windows-1252 trailing columns"],
)
def test_import_reads_what_excel_saves(stored: tuple[Catalog, str], tmp_path: Path, data: bytes) -> None:
    _, config = stored
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(data)
    code, output = invoke("import", "counts", str(sheet), "--date", str(DAY), "--dry-run", "-c", config)
    assert code == 0 and "1 row: 1 good, 0 to quarantine" in output and "dry run: nothing stored" in output


def test_the_same_sheet_twice_is_one_message(stored: tuple[Catalog, str], tmp_path: Path) -> None:
    found, config = stored
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("ingredient,unit,quantity\nbun,case,2\n")
    first = invoke("import", "counts", str(sheet), "--date", str(DAY), "-c", config)
    second = invoke("import", "counts", str(sheet), "--date", str(DAY), "-c", config)
    assert first[0] == second[0] == 0
    assert "stored" in first[1] and "already imported" in second[1]
    assert len(_ledger(found)) == 2  # each import is a transfer; the inbox keeps one message


def test_data_dir_is_resolved_beside_the_database(tmp_path: Path, database: str) -> None:
    found = catalog(tmp_path, database=database, data_dir="state")
    assert hub_data_dir(found) == tmp_path / "state"
    assert journal_queue_path(found) == tmp_path / "state" / "journal-queue.db"
    absolute = catalog(tmp_path, database=database, data_dir=str(tmp_path / "elsewhere"))
    assert hub_data_dir(absolute) == tmp_path / "elsewhere"
