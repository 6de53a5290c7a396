"""A whole X12 file read into documents: each transaction mapped to the canonical model.

:func:`read_documents` reads the envelopes (:mod:`.reader`), then maps each transaction by its
ST01, never by the file's name or the group's GS01: ``810`` and ``880`` invoices, ``855``
acknowledgements, ``850`` purchase orders, ``997`` functional acknowledgements. A transaction
that cannot be mapped keeps its positioned problem and the others go on.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from expediter.formats.x12.ack import ack_from_855
from expediter.formats.x12.dex import DexMappingError, invoice_from_894, read_dex
from expediter.formats.x12.errors import Severity, X12Error, X12Problem
from expediter.formats.x12.fa import GroupAck, read_997
from expediter.formats.x12.invoice import invoice_from_810, invoice_from_880
from expediter.formats.x12.po import po_from_850
from expediter.formats.x12.reader import Group, Interchange, Transaction, X12File, decode, read_x12
from expediter.model.vendors import Invoice, POAcknowledgement, PurchaseOrder

BLOCKING = frozenset({"isa16_terminator", "isa_separators"})
"""Interchange problems after which no segment can be trusted: nothing inside is mapped."""


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    PO_ACK = "po_ack"
    PURCHASE_ORDER = "purchase_order"
    FUNCTIONAL_ACK = "functional_ack"
    OTHER = "other"
    """A transaction we read the envelope of but do not map (an 856 ship notice, an 837)."""


KIND_OF = {
    "810": DocumentKind.INVOICE,
    "880": DocumentKind.INVOICE,
    "855": DocumentKind.PO_ACK,
    "850": DocumentKind.PURCHASE_ORDER,
    "997": DocumentKind.FUNCTIONAL_ACK,
    "894": DocumentKind.INVOICE,
}


class Document(msgspec.Struct, kw_only=True):
    kind: DocumentKind
    code: str
    control: str
    version: str
    group_control: str
    interchange_control: str
    sender: str
    receiver: str
    invoice: Invoice | None = None
    acknowledgement: POAcknowledgement | None = None
    purchase_order: PurchaseOrder | None = None
    functional_ack: list[GroupAck] | None = None
    problems: list[X12Problem] = []

    @property
    def accepted(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)


class ReadFile(msgspec.Struct, kw_only=True):
    file: X12File
    documents: list[Document]

    @property
    def problems(self) -> list[X12Problem]:
        return self.file.problems

    @property
    def errors(self) -> list[X12Problem]:
        return self.file.errors


def read_documents(data: bytes | str, *, strict: bool = False) -> ReadFile:
    text = decode(data)
    if text.lstrip().startswith("DXS"):
        return _dex_documents(text, strict)
    file = read_x12(text, strict=strict)
    blocked = any(p.code in BLOCKING and p.severity is Severity.ERROR for p in file.problems)
    documents = [_document(text, file, i, g, t, blocked) for i, g, t in file.transactions()]
    return ReadFile(file=file, documents=documents)


def _document(
    text: str, file: X12File, isa: Interchange, group: Group, tx: Transaction, blocked: bool
) -> Document:
    kind = KIND_OF.get(tx.code, DocumentKind.OTHER)
    sender = group.sender or isa.sender
    document = Document(
        kind=kind,
        code=tx.code,
        control=tx.control,
        version=tx.version,
        group_control=group.control,
        interchange_control=isa.control,
        sender=sender,
        receiver=group.receiver or isa.receiver,
    )
    if blocked:
        document.problems = [p for p in file.errors if p.code in BLOCKING]
        return document
    if tx.accepted():
        try:
            _map(document, text, tx, isa)
        except X12Error as exc:
            tx.problems.extend(exc.problems)
            file.problems.extend(exc.problems)
    document.problems = list(tx.problems)
    return document


def _map(document: Document, text: str, tx: Transaction, isa: Interchange) -> None:
    source = f"x12-{tx.code} ST {tx.control} in ISA {isa.control}"
    if tx.code == "810":
        document.invoice = invoice_from_810(text, tx, document.sender, source)
    elif tx.code == "880":
        document.invoice = invoice_from_880(text, tx, document.sender, source)
    elif tx.code == "855":
        document.acknowledgement = ack_from_855(text, tx, document.sender)
    elif tx.code == "850":
        document.purchase_order = po_from_850(text, tx, document.receiver)
    elif tx.code == "997":
        document.functional_ack = read_997(tx)


def _dex_documents(text: str, strict: bool) -> ReadFile:
    """A DEX/UCS 894 file: its deliveries as invoices (no 997: DEX has its own acknowledgement)."""
    dex = read_dex(text)
    problems = [msgspec.structs.replace(p, severity=Severity.ERROR) if strict else p for p in dex.problems]
    documents = []
    for tx in dex.transactions:
        document = Document(
            kind=DocumentKind.INVOICE,
            code="894",
            control=tx.control,
            version="UCS",
            group_control="",
            interchange_control=dex.control,
            sender=dex.sender,
            receiver=dex.receiver,
            problems=[p for p in problems if p.transaction == tx.control],
        )
        if not document.accepted:
            documents.append(document)
            continue
        try:
            document.invoice = invoice_from_894(dex, tx)
        except DexMappingError as exc:
            problems.append(exc.problem)
            document.problems.append(exc.problem)
        documents.append(document)
    return ReadFile(file=X12File(interchanges=[], problems=problems), documents=documents)
