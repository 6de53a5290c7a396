"""A vendor over X12 through the hub: the 850 goes out with stored control numbers, the 855 and
the 810 arrive in a watched folder, exceptions are raised, 997s answer, the bill is booked once."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from expediter.catalog.schema import Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub
from expediter.engine.inbound import FileArrivals
from expediter.engine.purchasing import desk_of
from expediter.formats.x12 import read_documents
from expediter.formats.x12.control import clock_floor
from expediter.ledger.transfers import TransferOutcome
from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.model.vendors import ItemIds, POLine, PurchaseOrder
from expediter.operations.purchasing import ExceptionKind, InvoiceState, Resolution
from expediter.plugin.base import ConnectorContext, ExportRequest
from expediter.plugin.registry import connector
from expediter.sim.distributor import ack_855, demo_changes, distributor_file, invoice_810

LOCATION = Location(id="main", name="Bistro", timezone="America/New_York")
ORDER = PurchaseOrder(
    po_number="PO-main-1",
    order_date=date(2026, 3, 2),
    vendor="vendor",
    location_id="main",
    lines=[
        POLine(
            line_number=str(n),
            item=ItemIds(vendor_item=f"V{n}", buyer_item=f"i{n}"),
            description=f"item {n}",
            quantity=Decimal(3),
            unit="CA",
            unit_price=Decimal("10.00"),
            ingredient=f"i{n}",
        )
        for n in range(1, 5)
    ],
)


def _catalog(tmp_path: Path, database: str | None = None) -> Catalog:
    vendor_transport = {
        "inbox_dir": str(tmp_path / "from_vendor"),
        "upload_dir": str(tmp_path / "to_vendor"),
        "stable_seconds": 0.01,
    }
    return Catalog(
        hub=HubSettings(database=database or str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        systems=[
            System(
                id="vendor",
                kind=SystemKind.VENDOR,
                connector="x12",
                owner="Chef",
                settings={"partner_id": "BROADLINE", "our_id": "EXPEDITER", "transport": vendor_transport},
            ),
            System(id="inventory", kind=SystemKind.INVENTORY, connector="csv", owner="Chef"),
            System(
                id="accounting",
                kind=SystemKind.ACCOUNTING,
                connector="beancount",
                owner="Lee",
                settings={"transport": {"inbox_dir": str(tmp_path / "books")}},
            ),
        ],
        flows=[
            Flow(
                id="vendor_in",
                from_="vendor",
                to="inventory",
                data="invoice",
                level=Level.FILE,
                trigger=Trigger.FILE_ARRIVAL,
                transport="folder",
                format="x12-810",
                owner="Lee",
            ),
            Flow(
                id="bills",
                from_="vendor",
                to="accounting",
                data="ap_bill",
                level=Level.FILE,
                trigger=Trigger.EVENT,
                transport="folder",
                format="beancount",
                owner="Lee",
            ),
        ],
        mappings=Mappings(accounts={"purchases": "5000 Food Purchases", "accounts_payable": "2000 Payables"}),
    )


def test_po_out_ack_and_invoice_in_exceptions_and_one_bill(tmp_path: Path, database: str) -> None:
    drop = tmp_path / "from_vendor"
    drop.mkdir()
    changes = demo_changes(ORDER)

    async def scenario() -> None:
        async with Hub(_catalog(tmp_path, database), deliver=False) as hub:
            desk = desk_of(hub)
            system = hub.catalog.system("vendor")
            assert system is not None
            context = ConnectorContext(catalog=hub.catalog, system=system, services=hub.services)
            request = ExportRequest(
                catalog=hub.catalog,
                location=LOCATION,
                start_date=ORDER.order_date,
                end_date=ORDER.order_date,
                orders=lambda: (),
                punches=lambda: (),
                extra={"purchase_orders": [ORDER]},
            )
            exporter = connector("x12").make_exporter(context)
            files = [await asyncio.to_thread(exporter.export, "purchase_order", request) for _ in range(2)]
            numbers = [read_documents(f[0].data).file.interchanges[0].control for f in files]
            assert numbers[0] != numbers[1]
            sent = read_documents(files[0][0].data).documents[0].purchase_order
            assert sent is not None and sent.lines == ORDER.lines and sent.location_id == "main"
            await desk.store.record_po(ORDER)

            (drop / "855_main_20260302.edi").write_bytes(distributor_file([ack_855(ORDER, changes)], "PR"))
            invoice = invoice_810(ORDER, changes, "0004471", date(2026, 3, 3))
            (drop / "810_main_20260303.edi").write_bytes(distributor_file([invoice], "IN"))
            (drop / "810_again_main_20260303.edi").write_bytes(
                distributor_file([invoice], "IN", when=datetime(2026, 3, 3, 9, tzinfo=UTC))
            )
            (drop / "810_broken_main_20260303.edi").write_bytes(b"ISA*00*garbage")
            [watcher] = FileArrivals(hub).build()
            for _ in range(3):
                await watcher.poll_once()
            await watcher.transport.close()

            exceptions = await desk.store.exceptions()
            assert sorted(e.kind for e in exceptions) == sorted(
                [ExceptionKind.SUBSTITUTION, ExceptionKind.SHORT, ExceptionKind.PRICE]
            )
            (stored,) = await desk.store.invoices()
            assert stored.invoice_number == "0004471" and stored.state is InvoiceState.EXCEPTIONS
            for item in exceptions:
                await desk.resolve(item.id, Resolution.ACCEPT)
            (booked,) = await desk.store.invoices()
            assert booked.state is InvoiceState.BOOKED
            transfers = await hub.ledger.transfers(flow_id="vendor_in")
            broken = [t for t in transfers if t.file_name == "810_broken_main_20260303.edi"]
            assert broken and broken[0].outcome is TransferOutcome.FAILED and "segment" in broken[0].error

    asyncio.run(scenario())
    acks = sorted(p.name for p in (tmp_path / "to_vendor").glob("997_*"))
    assert len(acks) == 3  # 855, 810 and the second 810; the unreadable file has no interchange
    for name in acks:
        read = read_documents((tmp_path / "to_vendor" / name).read_bytes())
        groups = read.documents[0].functional_ack
        assert groups is not None and groups[0].status == "A"
    bills = list((tmp_path / "books").glob("*.beancount"))
    assert [b.name for b in bills] == ["bill_vendor_0004471.beancount"]
    text = bills[0].read_text()
    assert 'invoice: "0004471"' in text and "Liabilities:2000-Payables" in text
    assert (tmp_path / "from_vendor" / "failed" / "810_broken_main_20260303.edi").exists()


@pytest.mark.slow
def test_control_numbers_survive_a_restart_and_a_restored_backup(tmp_path: Path, clock: ManualClock) -> None:
    """The documented rule: numbers run ahead of the clock by at most the burst issued; a backup
    restored once the clock has caught up (a second per number) reuses none of them."""

    async def allocate(n: int) -> list[int]:
        async with Hub(_catalog(tmp_path), deliver=False) as hub:
            desk = desk_of(hub)
            return [await desk.numbers.allocate_async("ZZ:BROADLINE") for _ in range(n)]

    first = asyncio.run(allocate(3))
    shutil.copy(tmp_path / "hub.db", tmp_path / "backup.db")
    second = asyncio.run(allocate(3))
    clock.advance(max(0, max(second) - clock_floor(clock.now()) + 1))  # the clock catches up
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"hub.db{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "backup.db", tmp_path / "hub.db")
    restored = asyncio.run(allocate(3))
    everything = first + second + restored
    assert len(set(everything)) == 9
    assert everything == sorted(everything)


def test_an_unreadable_vendor_file_is_quarantined_and_alerted(tmp_path: Path, database: str) -> None:
    from expediter.runtime import Runtime

    drop = tmp_path / "from_vendor"
    drop.mkdir()
    (drop / "810_main_20260303.edi").write_bytes(b"ISA*00*this is not a whole interchange")

    async def scenario() -> list[str]:
        async with Runtime(_catalog(tmp_path, database)) as runtime:
            for _ in range(400):  # the watcher's first poll runs at start
                if (drop / "failed" / "810_main_20260303.edi").exists():
                    break
                await asyncio.sleep(0.05)
            await runtime.watch_once()  # the alert watch's next round
            return [f"{a.flow_id}: {a.message}" for a in runtime.alerting.book.firing()]

    firing = asyncio.run(scenario())
    assert (drop / "failed" / "810_main_20260303.edi").exists()
    assert any(line.startswith("vendor_in:") for line in firing), firing


def test_dispute_then_credit_memo_books_a_bill_and_a_vendor_credit(tmp_path: Path, database: str) -> None:
    from expediter.formats.x12.writer import segment, transaction
    from expediter.operations.purchasing import ExceptionState

    changes = demo_changes(ORDER)

    async def scenario() -> None:
        async with Hub(_catalog(tmp_path, database), deliver=False) as hub:
            desk = desk_of(hub)
            await desk.store.record_po(ORDER)
            flow = hub.catalog.flows[0]
            invoice = invoice_810(ORDER, changes, "INV-9", date(2026, 3, 3))
            await desk.receive_file(flow, "810.edi", distributor_file([invoice], "IN"))
            price = next(e for e in await desk.store.exceptions() if e.kind is ExceptionKind.PRICE)
            for item in await desk.store.exceptions():
                resolution = Resolution.DISPUTE if item.id == price.id else Resolution.ACCEPT
                await desk.resolve(item.id, resolution)
            memo = transaction(
                "810",
                "0001",
                [
                    segment("BIG", "20260305", "CM-9", "", ORDER.po_number, "INV-9", "", "CR"),
                    segment("IT1", "3", "3", "CA", "0.80", "PE", "VN", "V3"),
                    segment("TDS", "240"),
                ],
            )
            await desk.receive_file(flow, "810_cm.edi", distributor_file([memo], "IN"))
            (settled,) = await desk.store.exceptions([ExceptionState.SETTLED])
            assert settled.id == price.id and settled.resolution == "credit memo CM-9"

    asyncio.run(scenario())
    names = sorted(p.name for p in (tmp_path / "books").glob("*.beancount"))
    assert names == ["bill_vendor_INV-9.beancount", "credit_vendor_CM-9.beancount"]
    credit = (tmp_path / "books" / "credit_vendor_CM-9.beancount").read_text()
    assert "Liabilities:2000-Payables  2.40 USD" in credit
