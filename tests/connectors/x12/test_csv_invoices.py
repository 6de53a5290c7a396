"""CSV invoices: the minimal layout, a vendor's own column names, bad rows named, same matching;
an X12 file with a bad transaction answered with a rejecting 997."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from expediter.connectors.x12.config import CsvColumns
from expediter.connectors.x12.formats import read_csv_invoices
from expediter.engine.hub import Hub
from expediter.engine.purchasing import desk_of
from expediter.errors import RejectedInput
from expediter.formats.x12 import read_documents
from expediter.model.money import Money
from expediter.operations.purchasing import ExceptionKind, InvoiceState
from expediter.sim.distributor import Changes, distributor_file, invoice_810
from tests.connectors.x12.test_vendor_flow import ORDER, _catalog

MINIMAL = (
    b"invoice_number,invoice_date,po_number,vendor_item,description,quantity,unit,unit_cost,extended\n"
    b"00981,2026-03-03,PO-main-1,V1,item 1,3,CA,10.00,30.00\n"
    b"00981,2026-03-03,PO-main-1,V2,item 2,3,CA,10.00,30.00\n"
    b"00981,2026-03-03,PO-main-1,V3,item 3,3,CA,10.00,30.00\n"
    b"00981,2026-03-03,PO-main-1,V4,item 4,2,CA,10.00,20.00\n"
)
VENDOR_COLUMNS = CsvColumns(
    invoice_number="Invoice #",
    invoice_date="Inv Date",
    po_number="PO",
    vendor_item="Item",
    quantity="Qty Shipped",
    unit_cost="Price",
    extended="Ext Price",
    catch_weight="Lbs",
    date_format="%m/%d/%Y",
)
THEIRS = (
    b"Invoice #,Inv Date,PO,Item,Description,Qty Shipped,Unit,Price,Lbs,Ext Price\n"
    b"A-17,03/03/2026,PO-9,BRISK,BRISKET,2,CA,4.10,61.3,\n"
    b"A-17,03/03/2026,PO-9,TOM25,TOMATOES,4,CA,28.45,,113.80\n"
)


def test_minimal_layout_and_a_vendors_own_columns() -> None:
    (invoice,) = read_csv_invoices(MINIMAL, CsvColumns(), "vendor")
    assert invoice.invoice_number == "00981" and invoice.po_number == "PO-main-1"
    assert [line.amount for line in invoice.lines] == [Money(3000)] * 3 + [Money(2000)]
    (theirs,) = read_csv_invoices(THEIRS, VENDOR_COLUMNS, "vendor")
    brisket, tomatoes = theirs.lines
    assert brisket.catch_weight == Decimal("61.3") and brisket.amount == Money(25133)
    assert tomatoes.amount == Money(11380) and theirs.invoice_date.isoformat() == "2026-03-03"


def test_a_bad_row_names_its_row_and_column() -> None:
    bad = MINIMAL.replace(b"V2,item 2,3,", b"V2,item 2,three,")
    with pytest.raises(RejectedInput) as caught:
        read_csv_invoices(bad, CsvColumns(), "vendor")
    assert caught.value.where == "row 3, column quantity"
    with pytest.raises(RejectedInput, match="no column"):
        read_csv_invoices(b"number,date\n1,2\n", CsvColumns(), "vendor")


def test_csv_invoice_goes_through_the_same_matching(tmp_path: Path) -> None:
    async def scenario() -> None:
        catalog = _catalog(tmp_path)
        flow = msgspec.structs.replace(catalog.flows[0], format="csv-invoice")
        catalog = msgspec.structs.replace(catalog, flows=[flow, *catalog.flows[1:]])
        async with Hub(catalog, deliver=False) as hub:
            desk = desk_of(hub)
            await desk.store.record_po(ORDER)
            outcome = await desk.receive_file(flow, "invoice.csv", MINIMAL)
            assert [s.state for s in outcome.invoices] == [InvoiceState.EXCEPTIONS]
            (short,) = await desk.store.exceptions()
            assert short.kind is ExceptionKind.SHORT and short.line_number == "4"
            again = await desk.receive_file(flow, "invoice-again.csv", MINIMAL)
            assert again.invoices[0].duplicate

    asyncio.run(scenario())


def test_a_bad_transaction_is_rejected_in_the_997_and_kept_out(tmp_path: Path) -> None:
    good = invoice_810(ORDER, Changes(), "Z-1", ORDER.order_date)
    bad = [s.replace("IT1*2*3*CA", "IT1*2*THREE*CA") for s in good]
    data = distributor_file([bad], "IN")

    async def scenario() -> None:
        async with Hub(_catalog(tmp_path), deliver=False) as hub:
            desk = desk_of(hub)
            flow = hub.catalog.flows[0]
            with pytest.raises(RejectedInput) as caught:
                await desk.receive_file(flow, "810_bad.edi", data)
            assert "IT102" in str(caught.value) and "segment" in caught.value.where
            assert await desk.store.invoices() == []

    asyncio.run(scenario())
    (reply,) = (tmp_path / "to_vendor").glob("997_*")
    groups = read_documents(reply.read_bytes()).documents[0].functional_ack
    assert groups is not None and groups[0].status == "R" and groups[0].sets[0].status == "R"


def test_a_997_from_the_vendor_is_read_and_not_answered(tmp_path: Path) -> None:
    from expediter.connectors.x12.config import X12Settings
    from expediter.connectors.x12.mapping import read_vendor_file
    from expediter.formats.x12 import InMemoryControlNumbers
    from tests.fixtures_path import SHARED_FIXTURES

    data = (SHARED_FIXTURES / "x12" / "staedi_997_5010_rejected.edi").read_bytes()
    found = read_vendor_file("997.edi", data, "x12", X12Settings(), "vendor", InMemoryControlNumbers())
    assert found.documents == 1 and found.replies == [] and found.errors == []
