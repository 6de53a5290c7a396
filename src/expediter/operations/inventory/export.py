"""The chef's nightly files: theoretical usage, items sold without a recipe, variance, reorders.

The csv connector calls :func:`usage_files` (flow data ``inventory_usage``) and
:func:`purchase_order_files` (``purchase_order``) per location and business date:

- ``inventory_usage_v1_<location>_<date>.csv``: what the day's sales should have used, by
  ingredient, costed at the recipe book's unit costs;
- ``missing_recipes_v1_<location>_<date>.csv``: items sold without a recipe, and add/remove
  modifiers no recipe explains — **reported, not guessed** (always written, so an empty file says
  that everything sold was costed);
- ``inventory_variance_v1_<location>_<date>.csv``: when on-hand counts were imported for that date
  and for an earlier one (``expediter import``), actual usage (opening + received − closing) against
  theoretical, with the cost of the difference. Deliveries received are not linked yet (taken as 0).
  Actual usage spans every day since the opening count, so theoretical usage does too: the sales of
  every business date from the day after the opening count through the date. Dates before the
  request's range are read from the catalog's database (or ``extra["inventory_orders"]``);
- ``purchase_order_v1_<location>_<date>.csv``: what to order back up to par from that date's count.

Counts are the ``inventory_counts`` messages of the hub's inbox (the raw count sheet, ``ref`` =
``location:date``). An exporter runs in a worker thread without the hub, so it reads them from the
catalog's database itself, unless the caller passes them in ``ExportRequest.extra["inventory_counts"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from expediter.catalog.paths import catalog_folder
from expediter.catalog.schema import Catalog
from expediter.errors import ConfigError, RejectedInput, TerminalError
from expediter.formats.csv import ColumnType, ExportFile, Layout, LineEnding, column, write_csv
from expediter.model.money import Money
from expediter.model.order import Order
from expediter.operations.accounting.export import business_dates, orders_by_day
from expediter.operations.inventory.counts import on_hand, read_counts
from expediter.operations.inventory.recipes import RecipeBook, load_recipe_book
from expediter.operations.inventory.reorder import PurchaseOrder, suggest_purchase_orders
from expediter.operations.inventory.usage import TheoreticalUsage, theoretical_usage
from expediter.operations.inventory.variance import VarianceReport, actual_usage, variance_report
from expediter.plugin.base import ExportRequest
from expediter.storage.blocking import EXTRA_KEY as BLOCKING_STORAGE
from expediter.storage.blocking import BlockingStorage

if TYPE_CHECKING:
    pass

COUNTS_KIND = "inventory_counts"
COUNTS_EXTRA = "inventory_counts"
"""``ExportRequest.extra`` key: ``(location_id, business_date) -> CountsOnFile`` instead of the database."""
USAGE_DATA = "inventory_usage"
PURCHASE_ORDER_DATA = "purchase_order"
QUANTITY_PLACES = Decimal("0.0001")


class CountsOnFile(msgspec.Struct, kw_only=True):
    """The count sheets that matter for one day: that day's (closing) and the latest before it."""

    closing: str | None = None
    closing_date: date | None = None
    opening: str | None = None
    opening_date: date | None = None


CountsLookup = Callable[[str, date], CountsOnFile]
ORDERS_EXTRA = "inventory_orders"
"""``ExportRequest.extra`` key: ``(location_id, first, last) -> orders`` of those business dates, for
the days between an opening count and the request's start, instead of the database."""
OrdersLookup = Callable[[str, date, date], Iterable[Order]]


T, M, D, DT = ColumnType.TEXT, ColumnType.MONEY, ColumnType.DECIMAL, ColumnType.DATE
_DAY = (column("location_id", T), column("business_date", DT), column("currency", T, "ISO 4217"))

INVENTORY_USAGE_V1 = Layout(
    name="inventory_usage",
    version=1,
    columns=(
        *_DAY,
        column("ingredient", T, description="ingredient id in the recipe book"),
        column("ingredient_name", T),
        column("unit", T, description="the ingredient's counting unit"),
        column("theoretical_quantity", D, "unit", "what the day's sales should have used"),
        column("unit_cost", D, "currency per unit"),
        column("cost", M, "currency"),
    ),
)
MISSING_RECIPES_V1 = Layout(
    name="missing_recipes",
    version=1,
    columns=(
        *_DAY[:2],
        column("kind", T, description="item (sold without a recipe) or modifier (no recipe explains it)"),
        column("key", T, description="the item's PLU, else its item id, else its name; a modifier's name"),
        column("name", T),
        column("category", T),
        column("quantity", D, "units sold"),
    ),
)
INVENTORY_VARIANCE_V1 = Layout(
    name="inventory_variance",
    version=1,
    columns=(
        *_DAY,
        column("ingredient", T),
        column("unit", T),
        column("status", T, description="counted, or not_counted (sales used it, nobody counted it)"),
        column("opening_date", DT, description="the date of the opening count"),
        column("theoretical", D, "unit", "what sales from the day after opening_date to this date used"),
        column("actual", D, "unit", "opening + received - closing"),
        column("variance", D, "unit", "actual - theoretical; positive = product gone without a sale"),
        column("unit_cost", D, "currency per unit"),
        column("variance_cost", M, "currency"),
    ),
)
PURCHASE_ORDER_V1 = Layout(
    name="purchase_order",
    version=1,
    columns=(
        *_DAY,
        column("po_number", T),
        column("vendor", T),
        column("ingredient", T),
        column("vendor_item", T),
        column("description", T),
        column("cases", D, "cases"),
        column("case_size", D),
        column("case_unit", T),
        column("on_hand", D, "unit"),
        column("par", D, "unit"),
        column("unit", T),
        column("case_cost", M, "currency"),
        column("line_total", M, "currency"),
    ),
)


class FileOptions(msgspec.Struct, frozen=True, kw_only=True):
    line_ending: LineEnding = LineEnding.CRLF
    bom: bool = False


def recipe_book_path(catalog: Catalog, setting: str) -> Path:
    """The ``recipes`` setting as a path: absolute, or relative to the catalog's folder."""
    if not setting:
        raise ConfigError(
            'no recipe book: set `recipes = "recipes.toml"` in the csv system\'s settings'
            " (a path relative to the catalog's folder, or absolute); see docs/inventory.md"
        )
    path = Path(setting)
    return path if path.is_absolute() else catalog_folder(catalog) / path


def load_book(catalog: Catalog, setting: str) -> RecipeBook:
    """The recipe book the ``recipes`` setting names, with ``[mappings.plu_recipes]`` added."""
    path = recipe_book_path(catalog, setting)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"recipe book {path}: {exc.strerror}; check the csv system's `recipes` setting"
        ) from exc
    try:
        return load_recipe_book(text, catalog.mappings.plu_recipes)
    except RejectedInput as exc:
        raise ConfigError(f"recipe book {path}: {exc}") from exc


def _q(value: Decimal) -> Decimal:
    return value.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_EVEN).normalize()


def _cost(quantity: Decimal, unit_cost: Decimal) -> int:
    return int((quantity * unit_cost * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _write(
    layout: Layout, rows: Iterable[Sequence[Any]], location_id: str, day: date, opts: FileOptions
) -> ExportFile:
    name = layout.file_name(location_id, day)
    return write_csv(layout, rows, name=name, line_ending=opts.line_ending, bom=opts.bom)


def usage_rows(usage: TheoreticalUsage, book: RecipeBook, currency: str) -> list[list[Any]]:
    rows = []
    for ingredient_id, quantity in usage.usage.items():
        ingredient = book.ingredients[ingredient_id]
        rows.append(
            [
                usage.location_id,
                usage.business_date,
                currency,
                ingredient_id,
                ingredient.name or ingredient_id,
                ingredient.unit.value,
                _q(quantity),
                ingredient.unit_cost,
                _cost(quantity, ingredient.unit_cost),
            ]
        )
    return rows


def missing_rows(usage: TheoreticalUsage) -> list[list[Any]]:
    day = (usage.location_id, usage.business_date)
    rows: list[list[Any]] = [
        [*day, "item", m.key, m.name, m.category, m.quantity] for m in usage.missing_recipes
    ]
    rows += [
        [*day, "modifier", m.name, m.name, m.action.value, m.quantity] for m in usage.unmatched_modifiers
    ]
    return rows


def variance_rows(
    report: VarianceReport, book: RecipeBook, usage: TheoreticalUsage, currency: str, opening_date: date
) -> list[list[Any]]:
    day = (usage.location_id, usage.business_date, currency)
    rows: list[list[Any]] = [
        [
            *day,
            line.ingredient,
            line.unit.value,
            "counted",
            opening_date,
            _q(line.theoretical),
            _q(line.actual),
            _q(line.variance),
            line.unit_cost,
            line.variance_cost,
        ]
        for line in report.lines
    ]
    for ingredient_id in report.not_counted:
        ingredient = book.ingredients[ingredient_id]
        theoretical = usage.usage[ingredient_id]
        unknown = [None, None, ingredient.unit_cost, None]  # actual, variance, unit cost, cost
        rows.append(
            [
                *day,
                ingredient_id,
                ingredient.unit.value,
                "not_counted",
                opening_date,
                _q(theoretical),
                *unknown,
            ]
        )
    return rows


def _variance(
    location_id: str,
    day: date,
    book: RecipeBook,
    counts: CountsOnFile,
    since_opening: Iterable[Order] | None,
    currency: str,
) -> tuple[VarianceReport, TheoreticalUsage, date] | None:
    """Actual against theoretical over the same days: every business date after the opening count
    through ``day``. ``None`` (no variance file) without both counts or without those days' orders."""
    if counts.closing is None or counts.opening is None or counts.opening_date is None:
        return None
    if since_opening is None:
        return None
    usage = theoretical_usage(since_opening, book, location_id=location_id, business_date=day)
    closing = on_hand(read_counts(counts.closing, book), book)
    opening = on_hand(read_counts(counts.opening, book), book)
    actual = actual_usage(opening, {}, {k: v for k, v in closing.items() if k in opening})
    return variance_report(usage.usage, actual, book, currency), usage, counts.opening_date


def usage_files(
    location_id: str,
    day: date,
    orders: Iterable[Order],
    book: RecipeBook,
    counts: CountsOnFile,
    *,
    currency: str = "USD",
    options: FileOptions | None = None,
    since_opening: Iterable[Order] | None = None,
) -> list[ExportFile]:
    """Usage and missing recipes for one location-day; the variance too when counts allow it.

    ``since_opening``: the orders of every business date from the day after the opening count
    through ``day``. When the opening count is the day before, ``orders`` are those; otherwise,
    without ``since_opening`` the variance is left out rather than set several days of actual use
    against one day of sales.
    """
    opts = options or FileOptions()
    orders = list(orders)
    usage = theoretical_usage(orders, book, location_id=location_id, business_date=day)
    files = [
        _write(INVENTORY_USAGE_V1, usage_rows(usage, book, currency), location_id, day, opts),
        _write(MISSING_RECIPES_V1, missing_rows(usage), location_id, day, opts),
    ]
    if since_opening is None and counts.opening_date == day - timedelta(days=1):
        since_opening = orders
    variance = _variance(location_id, day, book, counts, since_opening, currency)
    if variance is not None:
        report, window_usage, opening_date = variance
        rows = variance_rows(report, book, window_usage, currency, opening_date)
        files.append(_write(INVENTORY_VARIANCE_V1, rows, location_id, day, opts))
    return files


def purchase_order_rows(orders: list[PurchaseOrder], currency: str) -> list[list[Any]]:
    rows = []
    for po in orders:
        for line in po.lines:
            line_total = Money(line.case_cost.amount * line.cases, line.case_cost.currency)
            rows.append(
                [
                    *(po.location_id, po.business_date, currency, po.po_number, po.vendor),
                    *(line.ingredient, line.vendor_item, line.description, Decimal(line.cases)),
                    *(line.case_size, line.case_unit.value, _q(line.on_hand), line.par, line.unit.value),
                    *(line.case_cost, line_total),
                ]
            )
    return rows


def purchase_order_files(
    location_id: str,
    day: date,
    book: RecipeBook,
    counts: CountsOnFile,
    *,
    currency: str = "USD",
    options: FileOptions | None = None,
) -> list[ExportFile]:
    """What to order back to par from the day's count (one file, every vendor's lines)."""
    if counts.closing is None:
        raise TerminalError(
            f"no on-hand count for {location_id} {day}: import the count sheet first"
            f" (`expediter import FLOW counts.csv --location {location_id} --date {day}`)"
        )
    stock = on_hand(read_counts(counts.closing, book), book)
    orders = suggest_purchase_orders(stock, book, location_id=location_id, business_date=day)
    return [
        _write(
            PURCHASE_ORDER_V1,
            purchase_order_rows(orders, currency),
            location_id,
            day,
            options or FileOptions(),
        )
    ]


def export_inventory(
    data: str, request: ExportRequest, recipes_setting: str, options: FileOptions
) -> list[ExportFile]:
    """The files of ``inventory_usage`` or ``purchase_order`` for every date of the request."""
    book = priced_book(load_book(request.catalog, recipes_setting), request)
    lookup = counts_lookup(request)
    location = request.location
    by_day = orders_by_day(request.orders(), location) if data == USAGE_DATA else {}
    earlier = _EarlierOrders(request)
    files: list[ExportFile] = []
    for day in business_dates(request.start_date, request.end_date):
        counts = lookup(location.id, day)
        if data == USAGE_DATA:
            since_opening = None
            if counts.opening_date is not None and counts.closing is not None:
                since_opening = _orders_since(counts.opening_date, day, request.start_date, by_day, earlier)
            files += usage_files(
                location.id,
                day,
                by_day.get(day, []),
                book,
                counts,
                currency=location.currency,
                options=options,
                since_opening=since_opening,
            )
        else:
            files += purchase_order_files(
                location.id, day, book, counts, currency=location.currency, options=options
            )
    return files


def _orders_since(
    opening_date: date, day: date, start: date, by_day: dict[date, list[Order]], earlier: _EarlierOrders
) -> list[Order]:
    """Orders of every business date after ``opening_date`` through ``day``; the dates before the
    request's ``start`` come from ``earlier``."""
    first = opening_date + timedelta(days=1)
    orders = earlier.between(first, start - timedelta(days=1)) if first < start else []
    for when in business_dates(max(first, start), day):
        orders = orders + by_day.get(when, [])
    return orders


class _EarlierOrders:
    """Orders of dates before the request's range, read once per first date (a week of counts)."""

    def __init__(self, request: ExportRequest) -> None:
        self.request = request
        self.read: dict[date, list[Order]] = {}

    def between(self, first: date, last: date) -> list[Order]:
        if first not in self.read:
            self.read[first] = list(self._lookup()(self.request.location.id, first, last))
        return self.read[first]

    def _lookup(self) -> OrdersLookup:
        given = self.request.extra.get(ORDERS_EXTRA)
        return given if callable(given) else _no_orders


COSTS_EXTRA = "ingredient_costs"
"""``ExportRequest.extra`` key: ingredient id → its latest invoiced cost, instead of the database."""


def priced_book(book: RecipeBook, request: ExportRequest) -> RecipeBook:
    """The recipe book with each ingredient at its latest matched invoice's cost (from purchasing),
    so usage and variance are costed at what the kitchen pays now, not at the book's old price."""
    from expediter.operations.purchasing.costs import with_costs
    from expediter.operations.purchasing.store import costs_from

    given = request.extra.get(COSTS_EXTRA)
    storage: BlockingStorage | None = request.extra.get(BLOCKING_STORAGE)
    if given is None and storage is not None:  # a run of the hub: read its database
        given = storage.read(costs_from)
    return with_costs(book, given) if given else book


def counts_lookup(request: ExportRequest) -> CountsLookup:
    """The engine's lookup of the stored count sheets (``COUNTS_EXTRA``); none without it."""
    given = request.extra.get(COUNTS_EXTRA)
    return given if callable(given) else _no_counts


def _no_orders(location_id: str, first: date, last: date) -> list[Order]:
    return []


def _no_counts(location_id: str, day: date) -> CountsOnFile:
    return CountsOnFile()


def counts_from_rows(rows: Iterable[tuple[str, bytes]], day: date) -> CountsOnFile:
    """The newest sheet of ``day`` and the newest of the latest earlier date (rows newest first)."""
    found = CountsOnFile()
    for business_date, payload in rows:
        when = date.fromisoformat(business_date)
        text = bytes(payload).decode("utf-8-sig")
        if when == day and found.closing is None:
            found.closing, found.closing_date = text, when
        elif when < day and found.opening is None:
            found.opening, found.opening_date = text, when
    return found
