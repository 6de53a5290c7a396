"""Export a simulated day, re-read the files, and reconcile them to the cent with the orders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.metadata import entry_points

import msgspec
import pytest

from expediter.connectors.csv.config import CsvSettings
from expediter.connectors.csv.connector import export_labor_day, export_sales_day
from expediter.connectors.csv.mapping import mix_from_rows, summaries_from_rows
from expediter.formats.csv import LABOR_V1, PRODUCT_MIX_V1, SALES_SUMMARY_V1, LineEnding, read_csv
from expediter.model.labor import TimePunch
from expediter.model.money import Money
from expediter.model.order import Line, Order, OrderState, Payment, TenderType, order_totals
from expediter.operations.labor.hours import worked_seconds
from expediter.operations.sales import mix_errors, product_mix, reconciliation_errors, summarize_day
from expediter.operations.sales.days import closed_day, closed_days
from expediter.plugin.base import Capability, Connector
from expediter.sim.day import simulate_day
from expediter.sim.locations import sim_location
from expediter.sim.staff import staff_roster

LOCATION = sim_location(3)
DAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def simulated() -> tuple[list[Order], list[TimePunch]]:
    sim = simulate_day(LOCATION, DAY, seed=11, scale=0.5)
    hostile = Order(
        id="hostile",
        location_id=LOCATION.id,
        opened_at=datetime(2026, 11, 20, 20, 0, tzinfo=UTC),
        business_date=DAY,
        state=OrderState.COMPLETED,
        lines=[
            Line(
                id="h1",
                item_id='=HYPERLINK("http://evil")',
                name="=cmd|' /C calc'!A0",
                quantity=Decimal(1),
                unit_price=Money(900),
                category="@SUM(1+1)",
            )
        ],
        payments=[Payment(id="hp", tender=TenderType.CASH, amount=Money(900))],
    )
    return [*sim.orders, hostile], sim.punches


def test_sales_files_reread_reconcile_to_the_cent_with_the_orders(
    simulated: tuple[list[Order], list[TimePunch]],
) -> None:
    orders, _ = simulated
    summary_file, mix_file = export_sales_day(LOCATION, closed_day(LOCATION, DAY, iter(orders)))
    assert summary_file.name == f"sales_summary_v1_{LOCATION.id}_20261120.csv"
    (reread,) = summaries_from_rows(read_csv(SALES_SUMMARY_V1, summary_file.content))
    assert reread == summarize_day(LOCATION, DAY, orders)
    assert reconciliation_errors(reread) == []
    live = [o for o in orders if o.state is not OrderState.CANCELED]
    assert reread.total.amount == sum(order_totals(o).total.amount for o in live)
    assert reread.paid.amount == sum(p.amount.amount for o in live for p in o.payments)
    assert reread.checks == len(live)
    mix = mix_from_rows(read_csv(PRODUCT_MIX_V1, mix_file.content))
    assert mix == product_mix(LOCATION, DAY, orders)
    assert mix_errors(reread, mix) == []


def test_injection_prone_names_are_neutralised_in_the_export(
    simulated: tuple[list[Order], list[TimePunch]],
) -> None:
    orders, _ = simulated
    _, mix_file = export_sales_day(LOCATION, closed_day(LOCATION, DAY, orders))
    text = mix_file.content.decode()
    assert ",'=cmd|' /C calc'!A0," in text and ",'@SUM(1+1)," in text
    assert ",=" not in text and ",@" not in text and "\n=" not in text
    hostile = next(
        r for r in mix_from_rows(read_csv(PRODUCT_MIX_V1, mix_file.content)) if r.item_id.startswith("=")
    )
    assert (hostile.item_name, hostile.category) == ("=cmd|' /C calc'!A0", "@SUM(1+1)")


def test_negative_amounts_stay_numeric(simulated: tuple[list[Order], list[TimePunch]]) -> None:
    orders, _ = simulated
    refund = Order(
        id="neg",
        location_id=LOCATION.id,
        opened_at=datetime(2026, 11, 20, 20, 0, tzinfo=UTC),
        business_date=DAY,
        lines=[Line(id="n", name="Adj", quantity=Decimal(-1), unit_price=Money(250))],
    )
    _, mix_file = export_sales_day(
        LOCATION, closed_day(LOCATION, DAY, [*orders, refund]), CsvSettings(line_ending=LineEnding.LF)
    )
    (row,) = [line for line in mix_file.content.decode().split("\n") if ",Adj," in line]
    assert ",-2.50," in row and ",'-" not in row


def test_labor_file_rereads_to_the_punches(simulated: tuple[list[Order], list[TimePunch]]) -> None:
    _, punches = simulated
    employees = {e.id: e for e in staff_roster(LOCATION)}
    employees = {k: msgspec.structs.replace(e, name=f"-{e.name}") for k, e in employees.items()}
    file = export_labor_day(LOCATION, DAY, punches, CsvSettings(overtime_rules="california"), employees)
    rows = read_csv(LABOR_V1, file.content)
    assert file.records == len(rows) > 0
    assert all(r["employee_name"].startswith("-") for r in rows)  # restored after neutralising
    assert b"\r\n'-" in file.content or b",'-" in file.content
    for r in rows:
        expected = r["regular_wages"] + r["overtime_wages"] + r["double_time_wages"]
        assert r["total_wages"] == expected
        assert r["regular_wages"] == Money(r["hourly_rate"]).times(r["regular_hours"]).amount
    closed = [p for p in punches if p.clock_out is not None]
    worked = sum(r["regular_hours"] + r["overtime_hours"] + r["double_time_hours"] for r in rows)
    assert abs(worked - sum(_hours(p) for p in closed)) <= Decimal("0.01") * len(rows)
    assert sum(r["declared_cash_tips"] for r in rows) == sum(p.declared_cash_tips.amount for p in closed)


def _hours(punch: TimePunch) -> Decimal:
    return Decimal(worked_seconds(punch)) / 3600


@pytest.mark.parametrize("name", ["csv", "adp", "paychex"])
def test_connectors_are_declared_for_export_through_the_entry_point(name: str) -> None:
    (entry,) = entry_points(group="expediter.connectors", name=name)
    declared = entry.load()
    assert isinstance(declared, Connector)
    assert declared.name == name and declared.capabilities == frozenset({Capability.EXPORT})


def test_settings_are_validated_when_the_catalog_is_read() -> None:
    settings = msgspec.convert({"overtime_rules": "california", "workweek_start": "monday"}, CsvSettings)
    assert settings.workweek_start == "monday"
    with pytest.raises(msgspec.ValidationError, match="overtime_rules"):
        msgspec.convert({"overtime_rules": "texas"}, CsvSettings)


def test_a_date_range_export_writes_one_file_per_business_date() -> None:
    from datetime import timedelta

    from expediter.connectors.csv.connector import CsvExporter
    from expediter.plugin.base import ExportRequest

    days = [DAY + timedelta(days=n) for n in range(3)]
    sims = [simulate_day(LOCATION, day, seed=n, scale=0.1) for n, day in enumerate(days)]
    orders = [o for sim in sims for o in sim.orders]
    punches = [p for sim in sims for p in sim.punches]
    request = ExportRequest(
        catalog=None,  # type: ignore[arg-type]  # sales and labor files read nothing from the catalog
        location=LOCATION,
        start_date=days[0],
        end_date=days[-1],
        orders=lambda: iter(orders),
        punches=lambda: iter(punches),
    )
    request.sales = lambda: closed_days(request)  # what the engine hands the connector
    exporter = CsvExporter(CsvSettings())
    stamps = [f"{day:%Y%m%d}" for day in days]
    for kind in ("sales_summary", "product_mix"):
        files = exporter.export(kind, request)
        assert [f.name for f in files] == [f"{kind}_v1_{LOCATION.id}_{s}.csv" for s in stamps]
    summaries = [
        summaries_from_rows(read_csv(SALES_SUMMARY_V1, f.data))[0]
        for f in exporter.export("sales_summary", request)
    ]
    assert summaries == [summarize_day(LOCATION, day, orders) for day in days]
    assert all(s.checks > 0 for s in summaries)
    labor = exporter.export("labor", request)
    assert [f.name for f in labor] == [f"labor_v1_{LOCATION.id}_{s}.csv" for s in stamps]
    assert all(f.records > 0 for f in labor)
