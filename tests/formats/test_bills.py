"""AP bills through each accounting connector: QBO Bill JSON, IIF BILL, Xero bill CSV, beancount
(checked by beancount's own loader); a credit memo becomes a vendor credit."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import msgspec
from beancount import loader

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.vendors import APBill, BillKind, BillLine
from expediter.plugin.base import ConnectorContext, ExportRequest, OutputFile
from expediter.plugin.registry import connector

LOCATION = Location(id="main", name="Bistro", timezone="America/New_York")
BILL = APBill(
    vendor="valley-foods",
    vendor_name="Valley Foods",
    bill_number="000447-A",
    bill_date=date(2026, 3, 3),
    due_date=date(2026, 3, 17),
    payable_account="2000 Accounts Payable",
    po_number="PO-1",
    memo="invoice 000447-A PO PO-1",
    lines=[
        BillLine(account="5000 Food Purchases", description="TOMATO ROMA", amount=Money(11380)),
        BillLine(account="5100 Freight In", description="charge D240", amount=Money(350)),
    ],
)
CREDIT = msgspec.structs.replace(
    BILL,
    bill_number="CM-9",
    kind=BillKind.CREDIT,
    lines=[BillLine(account="5000 Food Purchases", description="price", amount=Money(600))],
)


def _export(name: str, fmt: str, bills: list[APBill]) -> list[OutputFile]:
    system = System(id="accounting", kind=SystemKind.ACCOUNTING, connector=name, owner="Lee")
    flow = Flow(
        id="bills",
        from_="vendor",
        to="accounting",
        data="ap_bill",
        level=Level.FILE,
        trigger=Trigger.SCHEDULE,
        schedule="*/30 * * * *",
        transport="folder",
        format=fmt,
        owner="Lee",
    )
    catalog = Catalog(
        hub=HubSettings(database="unused.db"), locations=[LOCATION], systems=[system], flows=[flow]
    )
    context = ConnectorContext(catalog=catalog, system=system)
    request = ExportRequest(
        catalog=catalog,
        location=LOCATION,
        start_date=BILL.bill_date,
        end_date=BILL.bill_date,
        orders=lambda: (),
        punches=lambda: (),
        extra={"ap_bills": bills, "flow": flow},
    )
    files: list[OutputFile] = connector(name).make_exporter(context).export("ap_bill", request)
    return files


def test_qbo_bill_json() -> None:
    bill_file, credit_file = _export("quickbooks", "qbo_json", [BILL, CREDIT])
    body = json.loads(bill_file.data)["Bill"]
    assert body["DocNumber"] == "000447-A" and body["VendorRef"]["value"] == "valley-foods"
    assert [Decimal(str(line["Amount"])) for line in body["Line"]] == [Decimal("113.80"), Decimal("3.50")]
    assert body["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] == "5000 Food Purchases"
    assert body["DueDate"] == "2026-03-17"
    assert "VendorCredit" in json.loads(credit_file.data)


def test_long_invoice_numbers_sharing_a_beginning_stay_two_qbo_bills() -> None:
    """QBO's DocNumber holds 21 characters (its Bill reference); a cut would make two bills one."""
    first = msgspec.structs.replace(BILL, bill_number="VALLEY-FOODS-2026-000447")
    second = msgspec.structs.replace(BILL, bill_number="VALLEY-FOODS-2026-000448")
    bodies = [json.loads(f.data)["Bill"] for f in _export("quickbooks", "qbo_json", [first, second])]
    numbers = [body["DocNumber"] for body in bodies]
    assert all(len(number) <= 21 for number in numbers) and numbers[0] != numbers[1]
    assert numbers[0].startswith("VALLEY-FOODS")
    assert bodies[0]["PrivateNote"].startswith("invoice VALLEY-FOODS-2026-000447")
    assert (
        _export("quickbooks", "qbo_json", [first])[0].data
        == _export("quickbooks", "qbo_json", [first])[0].data
    )


def test_iif_bill_balances_and_credit_is_a_bill_cred() -> None:
    (iif,) = _export("quickbooks", "iif", [BILL, CREDIT])
    rows = [r.split("\t") for r in iif.data.decode("cp1252").splitlines()]
    transactions = [r for r in rows if r[0] in ("TRNS", "SPL")]
    assert [r[2] for r in transactions] == ["BILL", "BILL", "BILL", "BILL CRED", "BILL CRED"]
    amounts = [Decimal(r[6]) for r in transactions[:3]]
    assert amounts == [Decimal("-117.30"), Decimal("113.80"), Decimal("3.50")] and sum(amounts) == 0
    assert transactions[0][4] == "2000 Accounts Payable" and transactions[0][7] == "000447-A"
    assert sum(Decimal(r[6]) for r in transactions[3:]) == 0


def test_xero_bills_and_credit_notes_csv() -> None:
    bills, credits = _export("xero", "csv", [BILL, CREDIT])
    rows = list(csv.DictReader(io.StringIO(bills.data.decode())))
    assert [r["*InvoiceNumber"] for r in rows] == ["000447-A", "000447-A"]
    assert [r["*UnitAmount"] for r in rows] == ["113.80", "3.50"] and rows[0]["*AccountCode"] == "5000"
    assert rows[0]["*InvoiceDate"] == "03/03/2026" and rows[0]["*DueDate"] == "17/03/2026"
    assert "credit_notes" in credits.name


def test_beancount_bills_load_clean() -> None:
    files = _export("beancount", "beancount", [BILL, CREDIT])
    for output in files:
        entries, errors, _ = loader.load_string(output.data.decode())
        assert errors == []
        assert entries
    assert 'invoice: "000447-A"' in files[0].data.decode()
