"""``expediter x12 read FILE``: what an X12 file holds, or every error in it with its position.

For a person: the interchanges, groups and transactions found; for an invoice its number, date,
vendor, lines, allowances and charges and totals; for an acknowledgement each line's status. For
scripts (``--json``): the same, with each document in the canonical model (money in minor units,
the invoice number as the vendor wrote it). Exit 1 when the file has errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expediter.formats.x12 import Document, ReadFile, Severity, X12Problem, read_documents
from expediter.formats.x12.reader import Interchange
from expediter.model.vendors import Invoice, POAcknowledgement, PurchaseOrder

x12_app = typer.Typer(help="Read X12 EDI files (810, 880, 855, 850, 997) by hand.", no_args_is_help=True)


class GroupSummary(msgspec.Struct, kw_only=True):
    functional_id: str
    control: str
    version: str
    sender: str
    receiver: str
    transactions: list[str]


class InterchangeSummary(msgspec.Struct, kw_only=True):
    control: str
    sender: str
    receiver: str
    version: str
    usage: str
    separators: dict[str, str]
    groups: list[GroupSummary]


class ReadReport(msgspec.Struct, kw_only=True):
    file: str
    ok: bool
    interchanges: list[InterchangeSummary]
    documents: list[Document]
    problems: list[X12Problem]


def _summary(interchange: Interchange) -> InterchangeSummary:
    delimiters = interchange.delimiters
    return InterchangeSummary(
        control=interchange.control,
        sender=f"{interchange.sender_qualifier}:{interchange.sender}",
        receiver=f"{interchange.receiver_qualifier}:{interchange.receiver}",
        version=interchange.version,
        usage=interchange.usage,
        separators={
            "element": delimiters.element,
            "component": delimiters.component,
            "segment": delimiters.segment,
            "repetition": delimiters.repetition,
        },
        groups=[
            GroupSummary(
                functional_id=g.functional_id,
                control=g.control,
                version=g.version,
                sender=g.sender,
                receiver=g.receiver,
                transactions=[f"{t.code} {t.control}" for t in g.transactions],
            )
            for g in interchange.groups
        ],
    )


def report_for(path: Path, read: ReadFile) -> ReadReport:
    return ReadReport(
        file=path.name,
        ok=not read.errors,
        interchanges=[_summary(i) for i in read.file.interchanges],
        documents=read.documents,
        problems=read.problems,
    )


def _print_invoice(console: Console, invoice: Invoice) -> None:
    kind = "Credit memo" if invoice.kind == "credit_memo" else "Invoice"
    console.print(
        f"    {kind} [bold]{escape(invoice.invoice_number)}[/] of {invoice.invoice_date}, vendor"
        f" {escape(invoice.vendor)}, PO {escape(invoice.po_number) or '-'}"
    )
    table = Table("line", "item", "description", "qty", "unit", "price", "amount", box=None, pad_edge=False)
    for line in invoice.lines:
        item = line.item.vendor_item or line.item.upc or line.item.buyer_item
        qty = f"{line.quantity}" + (f" ({line.catch_weight} LB)" if line.catch_weight is not None else "")
        table.add_row(
            escape(line.line_number),
            escape(item),
            escape(line.description),
            qty,
            line.unit,
            f"{line.unit_price}",
            line.net().format(),
        )
    console.print(table)
    for ac in invoice.allowances_charges:
        console.print(f"    {ac.kind} {escape(ac.code)}: {ac.amount.format()} {escape(ac.description)}")
    if invoice.tax is not None:
        console.print(f"    tax: {invoice.tax.format()}")
    stated = invoice.stated_total.format() if invoice.stated_total is not None else "not stated"
    console.print(
        f"    total: {stated} (lines and adjustments add up to {invoice.computed_total().format()})"
    )


def _print_ack(console: Console, ack: POAcknowledgement) -> None:
    console.print(f"    Acknowledgement of PO [bold]{escape(ack.po_number)}[/]: {ack.status} ({ack.code})")
    for line in ack.lines:
        sub = f" → {line.substitute.ids()[0]}" if line.substitute and line.substitute.ids() else ""
        console.print(
            f"      line {escape(line.line_number)}: {line.status} {escape(line.code)}{escape(sub)}"
        )


def _print_order(console: Console, order: PurchaseOrder) -> None:
    console.print(
        f"    Purchase order [bold]{escape(order.po_number)}[/] of {order.order_date}:"
        f" {len(order.lines)} lines, {order.total().format()}"
    )


def _print_document(console: Console, document: Document) -> None:
    state = "ok" if document.accepted else "[red]rejected[/]"
    console.print(f"  {document.code} {escape(document.control)} ({document.kind}) {state}")
    if document.invoice is not None:
        _print_invoice(console, document.invoice)
    if document.acknowledgement is not None:
        _print_ack(console, document.acknowledgement)
    if document.purchase_order is not None:
        _print_order(console, document.purchase_order)
    for group in document.functional_ack or []:
        console.print(f"    997 for group {escape(group.control)}: {group.status}")


def print_report(console: Console, report: ReadReport) -> None:
    if not report.interchanges and report.documents and report.documents[0].code == "894":
        first = report.documents[0]
        console.print(
            f"DEX/UCS 894 transmission {escape(first.interchange_control)} from {escape(first.sender)}"
            f" to {escape(first.receiver)}: {len(report.documents)} delivery(ies)"
        )
    for interchange in report.interchanges:
        console.print(
            f"Interchange {interchange.control} from {escape(interchange.sender)} to"
            f" {escape(interchange.receiver)} (ISA12 {interchange.version}, {interchange.usage})"
        )
        for group in interchange.groups:
            console.print(
                f" group {group.functional_id} {group.control} ({group.version}):"
                f" {len(group.transactions)} transaction(s)"
            )
    for document in report.documents:
        _print_document(console, document)
    for problem in report.problems:
        colour = "red" if problem.severity is Severity.ERROR else "yellow"
        console.print(f"[{colour}]{escape(str(problem))}[/]")


@x12_app.command("read")
def read_command(
    file: Annotated[Path, typer.Argument(help="The X12 file to read.", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Count and control-number mismatches are errors, not warnings.")
    ] = False,
) -> None:
    """Print the interchanges, groups and documents of FILE, or every error with its position."""
    read = read_documents(file.read_bytes(), strict=strict)
    report = report_for(file, read)
    if as_json:
        typer.echo(msgspec.json.encode(report).decode())
    else:
        print_report(Console(), report)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(x12_app, name="x12")
