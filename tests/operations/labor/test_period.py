"""The payroll flow end to end: stored orders, punches and roster → the ADP file in a folder.

Held pay: one auto-gratuity on a check nobody owns must not block the payroll run (it is held for a
person to assign, with an alert) and must not be lost (the next run after assignment pays it).
Tips rung on cash reach payroll like card tips; declared cash tips are a memo.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.cli import app
from expediter.connectors.adp.formats import ADP_EPI
from expediter.engine.hub import Hub
from expediter.formats.csv import read_csv
from expediter.ledger.transfers import TransferOutcome
from expediter.model import clock as hub_clock
from expediter.model.labor import Employee, Job
from expediter.model.money import Money
from expediter.model.order import Line, Order, OrderState, Payment, ServiceCharge, TenderType
from expediter.monitor.alerts import AlertKind
from expediter.operations.labor.holds import HoldState, open_pay_holds
from expediter.plugin.base import IncomingMessage
from expediter.runtime import Runtime

from .punches import LA, at, punch

START, END = date(2026, 3, 1), date(2026, 3, 7)
SERVER = Job(code="server", name="Server", hourly_wage=Money(1600), tipped=True)
ROSTER = [
    Employee(id="ann", name="Ann", location_id="LA1", jobs=[SERVER], payroll_id="000101"),
    Employee(id="bob", name="Bob", location_id="LA1", jobs=[SERVER], payroll_id="000102"),
]


def _catalog(tmp_path: Path) -> Catalog:
    return Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        locations=[LA],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(
                id="payroll",
                kind=SystemKind.PAYROLL,
                connector="adp",
                owner="Payroll",
                settings={"company_code": "XYZ", "transport": {"inbox_dir": str(tmp_path / "out")}},
            ),
        ],
        flows=[
            Flow(
                id="pay",
                from_="pos",
                to="payroll",
                data="payroll",
                level=Level.FILE,
                trigger=Trigger.SCHEDULE,
                schedule="0 6 * * 1",
                transport="folder",
                owner="Payroll",
            )
        ],
    )


def _check(id_: str, employee: str | None, *, tender: TenderType, tip: int, gratuity: int = 0) -> Order:
    return Order(
        id=id_,
        location_id="LA1",
        opened_at=at("2026-03-03 19:00"),
        business_date=date(2026, 3, 3),
        employee_id=employee,
        state=OrderState.COMPLETED,
        lines=[Line(id="l", name="Steak", quantity=Decimal(1), unit_price=Money(10000))],
        service_charges=[ServiceCharge(name="18%", amount=Money(gratuity), auto_gratuity=True)]
        if gratuity
        else [],
        payments=[Payment(id="p", tender=tender, amount=Money(10000 + gratuity), tip=Money(tip))],
    )


async def _store(hub: Hub, kind: str, ref: str, payload: msgspec.Struct, day: date | None) -> None:
    await hub.inbox.accept(
        IncomingMessage(
            source_system="pos",
            kind=kind,
            idempotency_key=f"pos:{kind}:{ref}",
            payload=msgspec.json.encode(payload),
            location_id="LA1",
        ),
        ref=ref,
        business_date=day,
    )


async def _store_week(hub: Hub) -> None:
    for employee in ROSTER:
        await _store(hub, "employees", employee.id, employee, None)
    for p in [
        punch("2026-03-03 10:00", 8, employee="ann", cash_tips=1500),
        punch("2026-03-03 10:00", 6, employee="bob"),
    ]:
        await _store(hub, "punches", p.id, p, date(2026, 3, 3))
    orders = [
        _check("c1", "ann", tender=TenderType.CARD, tip=2000),
        _check("c2", "ann", tender=TenderType.CASH, tip=500),  # rung on cash: still owed through payroll
        _check("banquet", None, tender=TenderType.CARD, tip=0, gratuity=3600),  # nobody's check
    ]
    for order in orders:
        await _store(hub, "orders", order.id, order, order.business_date)


def _rows(tmp_path: Path) -> list[dict[str, object]]:
    return read_csv(ADP_EPI, (tmp_path / "out" / "PRXYZEPI.csv").read_bytes())


def _earning(rows: list[dict[str, object]], file_no: str, code: str) -> int:
    return sum(
        int(r[f"Earnings {n} Amount"])  # type: ignore[call-overload]
        for r in rows
        for n in (3, 4, 5)
        if r["File #"] == file_no and r[f"Earnings {n} Code"] == code
    )


def test_unowned_auto_gratuity_is_held_alerted_then_paid_once_assigned(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)

    async def first_run() -> tuple[TransferOutcome, list[str], list[AlertKind]]:
        async with Runtime(catalog, schedule=False, watch=False) as runtime:
            await _store_week(runtime.hub)
            result = await runtime.run_flow("pay", "LA1", START, END)
            return result.outcome, result.notices, [a.kind for a in runtime.alerting.book.firing()]

    outcome, notices, firing = asyncio.run(first_run())
    # the rest of the payroll went out; the banquet's 36.00 is held, with an alert
    assert outcome is TransferOutcome.SUCCEEDED
    assert len(notices) == 1 and "36.00 USD on check banquet" in notices[0]
    assert "expediter payroll assign LA1:banquet EMPLOYEE_ID" in notices[0]
    assert firing == [AlertKind.HELD_FOR_REVIEW]
    rows = _rows(tmp_path)
    assert _earning(rows, "000101", "T") == 2500  # card 20.00 + cash 5.00, both rung on the POS
    assert _earning(rows, "000101", "SC") == _earning(rows, "000102", "SC") == 0
    assert [(r["Memo Code"], r["Memo Amount"]) for r in rows if r["Memo Code"]] == [("CT", 1500)]

    runner = CliRunner()
    config = tmp_path / "catalog.json"
    config.write_bytes(msgspec.json.encode(catalog))
    listed = runner.invoke(app, ["payroll", "held", "-c", str(config)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "LA1:banquet" in listed.output and "36.00 USD" in listed.output
    assigned = runner.invoke(app, ["payroll", "assign", "LA1:banquet", "bob", "-c", str(config)])
    assert assigned.exit_code == 0, assigned.output

    async def second_run() -> tuple[list[str], list[AlertKind]]:
        async with Runtime(catalog, schedule=False, watch=False) as runtime:
            result = await runtime.run_flow("pay", "LA1", START, END)
            return result.notices, [a.kind for a in runtime.alerting.book.firing()]

    notices, firing = asyncio.run(second_run())
    assert notices == [] and firing == []
    assert _earning(_rows(tmp_path), "000102", "SC") == 3600  # Bob is paid the banquet's gratuity
    with open_pay_holds(catalog) as holds:
        (hold,) = holds.list()
    assert (hold.state, hold.employee_id, hold.paid_in) == (
        HoldState.PAID,
        "bob",
        "pay:2026-03-01..2026-03-07",
    )
    # a re-run of the same period pays it again (it replaces the file); a later period does not
    asyncio.run(second_run())
    assert _earning(_rows(tmp_path), "000102", "SC") == 3600


def test_a_held_amount_cannot_be_reassigned_once_paid(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    with open_pay_holds(catalog) as holds:
        from expediter.operations.labor.holds import PayHold

        now = hub_clock.now()
        hold = PayHold(
            id="LA1:x",
            location_id="LA1",
            order_id="x",
            business_date=START,
            amount=Money(100),
            reason="test",
            held_at=now,
            updated_at=now,
        )
        holds.hold(hold)
        holds.mark_paid([holds.assign("LA1:x", "ann")], "pay:p")
    runner = CliRunner()
    config = tmp_path / "catalog.json"
    config.write_bytes(msgspec.json.encode(catalog))
    result = runner.invoke(app, ["payroll", "assign", "LA1:x", "bob", "-c", str(config)])
    assert result.exit_code != 0
    assert "was paid in pay:p" in str(result.exception) + result.output
