"""The ``csv`` connector: the nightly back-office files (sales summary, product mix, labor), and the
chef's inventory files (theoretical usage, missing recipes, variance, purchase order).

The engine closes each location's business dates (:attr:`~expediter.plugin.ExportRequest.sales`)
and the exporter writes each with :func:`export_sales_day`; :func:`export_labor_day` writes a day's
labor from the punches (an iterable, so a chain's night streams one location at a time). The engine
hands each file to the flow's transport. The inventory files come from
:mod:`expediter.operations.inventory.export` with the recipe book the ``recipes`` setting names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import msgspec

from expediter.connectors.csv.config import CsvSettings
from expediter.connectors.csv.mapping import labor_rows, mix_rows, summary_rows
from expediter.formats.csv import ExportFile, layout, write_csv
from expediter.model.labor import Employee, TimePunch
from expediter.model.location import Location
from expediter.model.sales import ClosedDay
from expediter.operations.inventory.counts import parse_count_sheet
from expediter.operations.inventory.export import (
    COUNTS_KIND,
    PURCHASE_ORDER_DATA,
    USAGE_DATA,
    FileOptions,
    export_inventory,
    load_book,
    recipe_book_path,
)
from expediter.operations.labor.overtime import rules_for, rules_named
from expediter.operations.labor.pay import labor_for_day
from expediter.plugin import (
    Capability,
    ConfigError,
    Connector,
    ConnectorContext,
    ExportRequest,
    OutputFile,
    SettingProblem,
    TerminalError,
    connector_settings,
)


def settings_for(ctx: ConnectorContext) -> CsvSettings:
    return connector_settings(ctx, CsvSettings)


def export_sales_day(
    location: Location, day: ClosedDay, settings: CsvSettings | None = None
) -> list[ExportFile]:
    """The sales summary and product mix files of one closed location-day."""
    settings = settings or CsvSettings()
    business_date = day.summary.business_date
    files = []
    if "sales_summary" in settings.layouts:
        summary_layout = layout("sales_summary", settings.layout_version)
        files.append(
            write_csv(
                summary_layout,
                summary_rows(day.summary),
                name=summary_layout.file_name(location.id, business_date),
                line_ending=settings.line_ending,
                bom=settings.bom,
            )
        )
    if "product_mix" in settings.layouts:
        mix_layout = layout("product_mix", settings.layout_version)
        files.append(
            write_csv(
                mix_layout,
                mix_rows(location.id, business_date, location.currency, day.product_mix),
                name=mix_layout.file_name(location.id, business_date),
                line_ending=settings.line_ending,
                bom=settings.bom,
            )
        )
    return files


def export_labor_day(
    location: Location,
    business_date: date,
    punches: Iterable[TimePunch],
    settings: CsvSettings | None = None,
    employees: Mapping[str, Employee] | None = None,
) -> ExportFile:
    """The labor file of one location-day. Pass the workweek's punches so far for weekly overtime."""
    settings = settings or CsvSettings()
    rules = rules_for(location)
    if settings.overtime_rules is not None or settings.workweek_start is not None:
        rules = rules_named(
            settings.overtime_rules or rules.name, settings.workweek_start or rules.workweek_start
        )
    result = labor_for_day(location, business_date, punches, rules)
    labor_layout = layout("labor", settings.layout_version)
    return write_csv(
        labor_layout,
        labor_rows(result.lines, employees),
        name=labor_layout.file_name(location.id, business_date),
        line_ending=settings.line_ending,
        bom=settings.bom,
    )


class CsvExporter:
    """The csv connector's files for a flow's data kind: one file per business date of the request
    (a re-run of a week writes the week, not its first day)."""

    DATA = ("sales_summary", "product_mix", "labor", USAGE_DATA, PURCHASE_ORDER_DATA)

    def __init__(self, settings: CsvSettings) -> None:
        self.settings = settings

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data not in self.DATA:
            raise TerminalError(f"the csv connector writes {', '.join(self.DATA)}, not {data!r}")
        if data in (USAGE_DATA, PURCHASE_ORDER_DATA):
            options = FileOptions(line_ending=self.settings.line_ending, bom=self.settings.bom)
            files = export_inventory(data, request, self.settings.recipes, options)
        elif data == "labor":
            files = self._labor_files(request)
        else:
            files = self._sales_files(data, request)
        return [OutputFile(name=f.name, data=f.content, records=f.records) for f in files]

    def _labor_files(self, request: ExportRequest) -> list[ExportFile]:
        employees = {e.id: e for e in request.employees()}
        # Every day gets all the punches: the days before it in the workweek count toward its
        # weekly overtime, and labor_for_day keeps only its own rows.
        punches = list(request.punches())
        return [
            export_labor_day(request.location, day, punches, self.settings, employees)
            for day in request.business_dates()
        ]

    def _sales_files(self, data: str, request: ExportRequest) -> list[ExportFile]:
        if request.sales is None:
            raise TerminalError(f"the csv connector was given no closed days to write {data}")
        only = msgspec.structs.replace(self.settings, layouts=[data])
        files: list[ExportFile] = []
        for day in request.sales():  # the engine closed each date (refunds on the day they happened)
            files += export_sales_day(request.location, day, only)
        return files


def make_exporter(ctx: ConnectorContext) -> CsvExporter:
    return CsvExporter(settings_for(ctx))


class CsvImporter:
    """Files the csv connector reads: on-hand count sheets (``inventory_counts``)."""

    def __init__(self, ctx: ConnectorContext, settings: CsvSettings) -> None:
        self.ctx = ctx
        self.settings = settings

    def read(self, data: str, payload: bytes) -> int:
        if data != COUNTS_KIND:
            raise TerminalError(f"the csv connector reads {COUNTS_KIND} files, not {data!r}")
        book = load_book(self.ctx.catalog, self.settings.recipes) if self.settings.recipes else None
        return len(parse_count_sheet(payload, book))


def make_importer(ctx: ConnectorContext) -> CsvImporter:
    return CsvImporter(ctx, settings_for(ctx))


BOOK_DATA = (USAGE_DATA, PURCHASE_ORDER_DATA)
"""The files the csv connector writes from the recipe book."""


def check(ctx: ConnectorContext) -> list[SettingProblem]:
    """The recipe book the ``recipes`` setting names exists and reads; a flow writing usage or
    purchase orders to this system without one is refused too (it could never run)."""
    recipes = settings_for(ctx).recipes
    if not recipes:
        needing = [
            f for f in ctx.catalog.flows if f.enabled and f.to == ctx.system.id and f.data in BOOK_DATA
        ]
        if not needing:
            return []
        message = f"no recipe book, yet flow {needing[0].id} writes {needing[0].data} files from one"
        fix = 'recipes = "recipes.toml", a path relative to the catalog\'s folder (format: docs/inventory.md)'
        return [SettingProblem(key="recipes", message=message, fix=fix)]
    path = recipe_book_path(ctx.catalog, recipes)
    if not path.is_file():
        fix = "write the recipe book there (format: docs/inventory.md), or correct the path"
        return [SettingProblem(key="recipes", message=f"there is no recipe book at {path}", fix=fix)]
    try:
        load_book(ctx.catalog, recipes)
    except ConfigError as exc:
        fix = "correct the recipe book at that place (its format is in docs/inventory.md)"
        return [SettingProblem(key="recipes", message=str(exc), fix=fix)]
    return []


CONNECTOR = Connector(
    name="csv",
    title="CSV back-office export",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=CsvSettings,
    make_exporter=make_exporter,
    make_importer=make_importer,
    check=check,
    reads=frozenset({COUNTS_KIND}),
    description=(
        "Nightly sales summary, product mix and labor files in versioned CSV layouts "
        "(docs/layouts/), safe to open in a spreadsheet; inventory usage, variance and purchase "
        "orders from a recipe book."
    ),
)
