"""POS net sales = journal revenue = the back-office sales summary, to the cent.

The POS's side is every order of the day as the hub holds it now (the newest version of each).
The journal's and the sales summary's sides are the order versions their files were built from
(the lineage of the night's transfer): a late refund, an edited check or a replayed order after
the files went out shows as the records whose versions differ, with each side's amount.

Net sales here are the revenue the books keep: item lines before voids, less discounts and comps,
tax taken out (an inclusive tax is inside the prices). Refunds dated on the day are compared too.
Each side's total comes from its own builder (the journal entry's revenue lines, the summary's net
sales), so a builder that counts differently from the orders it was given shows as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import msgspec

from expediter.catalog.schema import Mappings
from expediter.errors import ExpediterError
from expediter.model.location import Location
from expediter.model.order import LineKind, Order, OrderState, TaxKind
from expediter.monitor.reconcile.common import amount_text, plural, verdict
from expediter.monitor.reconcile.model import CheckName, CheckResult, Difference, Unit
from expediter.operations.accounting.dating import refunds_on, sale_date
from expediter.operations.accounting.journal import JournalEntry, build_journal, latest_versions
from expediter.operations.sales.close import line_gross_minor, summarize_day

POS = "pos"
JOURNAL, SALES_SUMMARY = "journal", "sales_summary"
LABELS = {JOURNAL: "journal", SALES_SUMMARY: "sales summary"}


class SentOrders(msgspec.Struct, kw_only=True):
    """One flow's file for the day: whether it went, whether it was due, and the order versions
    it was built from."""

    flow_id: str
    data: str
    """``journal`` or ``sales_summary``."""
    sent: bool
    due: bool = True
    file_name: str = ""
    orders: list[Order] = []


class SalesFacts(msgspec.Struct, kw_only=True):
    location: Location
    business_date: date
    orders: list[Order]
    """The POS's orders now: the day's sales and earlier sales refunded on it."""
    files: list[SentOrders]
    mappings: Mappings = msgspec.field(default_factory=Mappings)


def net_sales(order: Order) -> int:
    """Item lines (not voided, not gift cards) less discounts and comps, tax excluded."""
    total = 0
    for line in order.lines:
        if line.voided or line.kind is LineKind.GIFT_CARD:
            continue
        total += line_gross_minor(line, order.currency) - sum(d.amount.amount for d in line.discounts)
        total -= line.comp.amount.amount if line.comp is not None else 0
    total -= sum(d.amount.amount for d in order.discounts)
    return total - sum(t.amount.amount for t in order.taxes if t.kind is TaxKind.INCLUSIVE)


def figures(order: Order, location: Location, day: date) -> tuple[int, int]:
    """(net sales booked on ``day``, refunds booked on ``day``) of one order version."""
    if order.state is OrderState.CANCELED:
        return 0, 0
    sold = net_sales(order) if sale_date(order, location) == day else 0
    return sold, sum(r.amount.amount for r in refunds_on(order, location, day))


def journal_revenue(entry: JournalEntry) -> int:
    """The entry's sales lines less its discount and comp lines (refunds apart)."""
    total = 0
    for line in entry.lines:
        signed = line.credit.amount - line.debit.amount
        if line.memo.startswith("sales: ") or line.memo.startswith(("discount: ", "comp: ")):
            total += signed
    return total


class _Figures:
    """Each order version's figures, worked out once (the sides mostly carry the same versions)."""

    def __init__(self, location: Location, day: date) -> None:
        self.location, self.day = location, day
        self._known: dict[tuple[str, int], tuple[int, int]] = {}

    def of(self, order: Order) -> tuple[int, int]:
        key = (order.id, order.version)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = figures(order, self.location, self.day)
        return found

    def net(self, orders: Iterable[Order]) -> int:
        return sum(self.of(o)[0] for o in orders)


def check_sales(facts: SalesFacts) -> CheckResult:
    location, day = facts.location, facts.business_date
    counted = _Figures(location, day)
    pos = {o.id: o for o in latest_versions(facts.orders)}
    sides = {_label(f, facts.files): f for f in facts.files}
    differences = [_not_sent(label, f, day) for label, f in sides.items() if not f.sent and f.due]
    sent = {label: {o.id: o for o in latest_versions(f.orders)} for label, f in sides.items() if f.sent}
    differences += _order_differences(pos, sent, counted, location)
    totals = {POS: counted.net(pos.values())}
    for label, file in sides.items():
        if file.sent:
            totals[label] = _side_total(file, facts, counted)
    differences += _total_differences(totals, sent, counted, location)
    pending = "" if sent or not sides else "the night's files have not gone out yet"
    return verdict(
        CheckName.SALES,
        location.id,
        day,
        differences,
        agreed=f"{plural(len(pos), 'order')}, net sales"
        f" {amount_text(totals[POS], Unit.MINOR, location.currency)} everywhere",
        pending=pending,
        flow_id=_flow_of(differences, sides),
        unit=Unit.MINOR,
        currency=location.currency,
        totals=totals,
    )


def _label(file: SentOrders, files: list[SentOrders]) -> str:
    label = LABELS.get(file.data, file.data)
    same = [f for f in files if f.data == file.data]
    return label if len(same) == 1 else f"{label} ({file.flow_id})"


def _not_sent(label: str, file: SentOrders, day: date) -> Difference:
    return Difference(
        record=file.flow_id, problem=f"no {label} file went out for {day} (flow {file.flow_id})"
    )


def _order_differences(
    pos: dict[str, Order], sent: dict[str, dict[str, Order]], counted: _Figures, location: Location
) -> list[Difference]:
    found = []
    for order_id in sorted(set(pos).union(*sent.values())):
        now = pos.get(order_id)
        mine = counted.of(now) if now is not None else (0, 0)
        for label, orders in sent.items():
            theirs = orders.get(order_id)
            values = counted.of(theirs) if theirs is not None else (0, 0)
            if values != mine:
                found.append(_order_difference(order_id, label, now, theirs, mine, values, location))
    return found


def _order_difference(
    order_id: str,
    label: str,
    now: Order | None,
    theirs: Order | None,
    mine: tuple[int, int],
    values: tuple[int, int],
    location: Location,
) -> Difference:
    money = location.currency
    if theirs is None:
        problem = f"missing from the {label} file"
    elif now is None:
        problem = f"in the {label} file, not among the POS's orders of the day"
    elif theirs.version != now.version:
        problem = f"the {label} file has version {theirs.version}, the POS version {now.version}"
    else:
        problem = f"the {label} file counts it differently"
    if mine[1] != values[1]:
        problem += (
            f"; refunds {amount_text(mine[1], Unit.MINOR, money)} in the POS,"
            f" {amount_text(values[1], Unit.MINOR, money)} in the {label} file"
        )
    amounts = {POS: mine[0], label: values[0]}
    if mine[1] or values[1]:
        amounts |= {f"{POS} refunds": mine[1], f"{label} refunds": values[1]}
    return Difference(record=order_id, problem=problem, values=amounts)


def _side_total(file: SentOrders, facts: SalesFacts, counted: _Figures) -> int:
    """The side's net sales as its own builder counts them."""
    location, day = facts.location, facts.business_date
    if file.data == SALES_SUMMARY:
        summary = summarize_day(location, day, file.orders)
        return summary.net_sales.amount - summary.tax_inclusive.amount
    if file.data == JOURNAL:
        try:
            entry = build_journal(
                file.orders, facts.mappings, location_id=location.id, business_date=day, location=location
            )
        except ExpediterError:  # the mappings changed since it went out: count its orders instead
            return counted.net(latest_versions(file.orders))
        return journal_revenue(entry)
    return counted.net(latest_versions(file.orders))


def _total_differences(
    totals: dict[str, int], sent: dict[str, dict[str, Order]], counted: _Figures, location: Location
) -> list[Difference]:
    """A side whose builder's total is not the sum of its own orders' net sales."""
    found = []
    for label, orders in sent.items():
        own = counted.net(orders.values())
        if label in totals and totals[label] != own:
            money = location.currency
            found.append(
                Difference(
                    record=f"{label} total",
                    problem=f"the {label} file's net sales are"
                    f" {amount_text(totals[label], Unit.MINOR, money)}, its orders'"
                    f" {amount_text(own, Unit.MINOR, money)}",
                    values={label: totals[label], "its orders": own},
                )
            )
    return found


def _flow_of(differences: list[Difference], sides: dict[str, SentOrders]) -> str:
    """The flow of the first side that differs (its owner hears about it), else the first flow."""
    for difference in differences:
        for label, file in sides.items():
            if difference.record == file.flow_id or label in difference.values:
                return file.flow_id
    return next((file.flow_id for file in sides.values()), "")
