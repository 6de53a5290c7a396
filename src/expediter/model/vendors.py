"""Vendors: purchase orders out, acknowledgements and invoices in.

The canonical shapes every vendor format maps to and from (X12 850/855/810/880, CSV invoices):

- :class:`PurchaseOrder` with :class:`POLine` (what the restaurant orders);
- :class:`POAcknowledgement` with :class:`AckLine` (the vendor's answer: accepted, rejected,
  substituted, back-ordered lines);
- :class:`Invoice` with :class:`InvoiceLine` (a bill, or a credit memo when ``kind`` is
  ``credit_memo``), header and line :class:`AllowanceCharge`, catch-weight lines priced by weight.

Money is in integer minor units (:class:`~expediter.model.money.Money`); quantities and unit prices
of a unit are Decimal, because vendors price to fractions of a cent ($2.3456 per pound). The
vendor's invoice number is kept exactly as written (leading zeros, dashes): it is the key the books
use, and the vendor's own key when a manager calls about it.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

import msgspec

from expediter.model.money import Money, total


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_MEMO = "credit_memo"
    """Money the vendor owes back (a return, a short, a price correction); amounts stay positive
    on the document and the kind says which way they go."""


class AckStatus(StrEnum):
    ACCEPTED = "accepted"
    CHANGED = "changed"
    """Accepted with a different quantity, price or date."""
    SUBSTITUTED = "substituted"
    BACKORDERED = "backordered"
    REJECTED = "rejected"


class AllowanceOrCharge(StrEnum):
    ALLOWANCE = "allowance"
    """Lowers what is owed (a promotion, a volume discount)."""
    CHARGE = "charge"
    """Raises what is owed (fuel surcharge, delivery, a deposit)."""
    INFORMATION = "information"
    """Stated for reference only (X12 SAC01 ``N``): neither lowers nor raises the total."""


class Party(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """A party named on a document (X12 N1 loop): ship-to, bill-to, remit-to, the vendor itself."""

    role: str
    """The X12 entity code as sent (``ST`` ship-to, ``BT`` bill-to, ``RI`` remit-to, ``VN``/``SU``
    vendor/supplier, ``SF`` ship-from) or the same word from a CSV."""
    name: str = ""
    id_qualifier: str = ""
    id: str = ""
    address: list[str] = []
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


class ItemIds(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """How a vendor and a buyer name one product; any of them may be empty."""

    vendor_item: str = ""
    """The vendor's own item number (X12 ``VN``/``VP``/``SK`` or a CSV's item code)."""
    buyer_item: str = ""
    """The restaurant's item number (X12 ``BP``/``IN``)."""
    upc: str = ""
    """A UPC (``UP``), a case UPC (``UA``/``UK``) or a GTIN (``EN``)."""
    other: dict[str, str] = {}
    """Other qualifier → id pairs, kept as sent."""

    def ids(self) -> list[str]:
        """Every id usable to recognise the item, most specific first."""
        return [key for key in (self.vendor_item, self.upc, self.buyer_item) if key]


class POLine(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    line_number: str
    """As written (X12 PO101 may be ``item-1``)."""
    item: ItemIds
    description: str
    quantity: Decimal
    unit: str
    """The ordering unit as an X12 unit code: ``CA`` case, ``EA`` each, ``LB`` pound, ``BX`` box."""
    unit_price: Decimal
    """Price of one ``unit`` in the currency's major unit (9.25 = $9.25)."""
    ingredient: str = ""
    """The recipe book's ingredient id, when the line came from a suggested purchase order."""
    pack: Decimal | None = None
    """Units inside one ordering unit (X12 PO401), e.g. 48 per case."""
    size: Decimal | None = None
    size_unit: str = ""

    def extended(self, currency: str) -> Money:
        return money_of(self.quantity * self.unit_price, currency)


class PurchaseOrder(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    po_number: str
    order_date: date
    vendor: str
    """The catalog system id of the vendor (or the vendor's id when read from a file)."""
    location_id: str
    lines: list[POLine]
    currency: str = "USD"
    purpose: str = "00"
    """X12 BEG01: ``00`` original, ``01`` cancellation, ``05`` replace."""
    requested_delivery: date | None = None
    ship_to: Party | None = None
    bill_to: Party | None = None
    vendor_party: Party | None = None
    notes: list[str] = []

    def total(self) -> Money:
        return total((line.extended(self.currency) for line in self.lines), self.currency)


class AckLine(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    line_number: str
    status: AckStatus
    code: str
    """The vendor's status code as sent (X12 ACK01: ``IA``, ``IR``, ``IS``, ``IB``, ``R2`` ...)."""
    item: ItemIds
    ordered_quantity: Decimal | None = None
    quantity: Decimal | None = None
    """What the vendor will ship (X12 ACK02), when stated."""
    unit: str = ""
    unit_price: Decimal | None = None
    substitute: ItemIds | None = None
    description: str = ""
    ship_date: date | None = None


class POAcknowledgement(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    po_number: str
    ack_date: date | None
    status: AckStatus
    """The whole order's answer (X12 BAK02: ``AC``/``AD``/``AT`` accepted, ``RD``/``RJ``/``NA``
    rejected or not accepted, ``AE``/``AK``... changed)."""
    code: str
    lines: list[AckLine]
    vendor: str = ""
    reference: str = ""


class AllowanceCharge(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    kind: AllowanceOrCharge
    code: str
    """What it is as sent (X12 SAC02 ``C310`` discount, ``D240`` freight, ``H850`` tax ...)."""
    amount: Money
    """Always positive; ``kind`` says which way it goes."""
    description: str = ""

    def signed(self) -> Money:
        """What it adds to the amount owed."""
        if self.kind is AllowanceOrCharge.CHARGE:
            return self.amount
        if self.kind is AllowanceOrCharge.ALLOWANCE:
            return -self.amount
        return Money(0, self.amount.currency)


class InvoiceLine(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    line_number: str
    """As written; a file without line numbers gets 1, 2, 3 ... in order."""
    item: ItemIds
    description: str
    quantity: Decimal
    """Units shipped and billed, in ``unit``."""
    unit: str
    unit_price: Decimal
    """Price of one ``unit`` (or of one ``price_unit`` for a catch-weight line)."""
    amount: Money
    """The line's extended amount before its own allowances and charges."""
    allowances_charges: list[AllowanceCharge] = []
    catch_weight: Decimal | None = None
    """For a line sold by the case but priced by weight: the weight shipped (X12 IT1 in pounds or
    PO4/MEA); then ``amount`` = ``catch_weight`` × ``unit_price`` per ``price_unit``."""
    price_unit: str = ""
    """The unit ``unit_price`` is per when it is not ``unit`` (``LB`` on a catch-weight line)."""
    po_line: str = ""
    """The purchase order line it bills, when the vendor says (X12 REF*LI or IT1 PO line)."""

    def net(self) -> Money:
        """The line's amount after its own allowances and charges."""
        if not self.allowances_charges:
            return self.amount
        return total([self.amount, *(ac.signed() for ac in self.allowances_charges)], self.amount.currency)


class Invoice(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    invoice_number: str
    """Exactly as the vendor wrote it: the key it is booked under, once."""
    invoice_date: date
    vendor: str
    """The vendor's catalog system id once known; the sender's id as read from the file before."""
    lines: list[InvoiceLine]
    currency: str = "USD"
    kind: InvoiceKind = InvoiceKind.INVOICE
    po_number: str = ""
    location_id: str = ""
    allowances_charges: list[AllowanceCharge] = []
    """Header-level allowances and charges (not the line ones)."""
    tax: Money | None = None
    stated_total: Money | None = None
    """The total the vendor stated (X12 TDS01, a CSV total column); ``None`` when not sent."""
    parties: list[Party] = []
    terms: str = ""
    due_date: date | None = None
    original_invoice: str = ""
    """For a credit memo: the invoice it corrects, when stated (BIG05/REF*OI)."""
    source: str = ""
    """Where it came from (``x12-810 ST 0001 in ICN 000000005``, ``csv``): for messages and replay."""

    def lines_total(self) -> Money:
        return total((line.net() for line in self.lines), self.currency)

    def header_adjustments(self) -> Money:
        return total((ac.signed() for ac in self.allowances_charges), self.currency)

    def computed_total(self) -> Money:
        """Lines after their allowances and charges, plus header allowances and charges and tax."""
        tax = self.tax or Money(0, self.currency)
        return self.lines_total() + self.header_adjustments() + tax

    def amount_due(self) -> Money:
        """What the document says is owed: the stated total when sent, else the computed one."""
        return self.stated_total if self.stated_total is not None else self.computed_total()

    def signed_amount_due(self) -> Money:
        """Positive for an invoice, negative for a credit memo."""
        due = self.amount_due()
        return -due if self.kind is InvoiceKind.CREDIT_MEMO else due


_SCALES = {places: Decimal(10) ** places for places in range(4)}
_ONE = Decimal(1)


def money_of(major: Decimal, currency: str = "USD", places: int = 2) -> Money:
    """A Decimal amount in the major unit (12.345) as Money in minor units, half to even."""
    scale = _SCALES.get(places) or Decimal(10) ** places
    scaled = (major * scale).quantize(_ONE, rounding=ROUND_HALF_EVEN)
    return Money(int(scaled), currency)


class BillKind(StrEnum):
    BILL = "bill"
    CREDIT = "credit"
    """A vendor credit (from a credit memo): lowers what is owed to the vendor."""


class BillLine(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    account: str
    """The expense (or inventory) account the line is booked to."""
    description: str
    amount: Money
    ingredient: str = ""


class APBill(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """An accounts-payable bill for the books: one per vendor invoice, keyed by its number."""

    vendor: str
    vendor_name: str
    bill_number: str
    """The vendor's invoice number, exactly as written: the key that makes booking happen once."""
    bill_date: date
    lines: list[BillLine]
    payable_account: str
    currency: str = "USD"
    kind: BillKind = BillKind.BILL
    due_date: date | None = None
    po_number: str = ""
    memo: str = ""

    def total(self) -> Money:
        return total((line.amount for line in self.lines), self.currency)
