"""Settings of an ``x12`` vendor system (``[systems.settings]``); the SFTP account is the
``transport`` table beside them."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec


class PurchasingPolicy(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    wins: Literal["invoice", "receiver"] = "invoice"
    """Whose quantities are owed: the invoice's, or the receiving count's."""
    price_tolerance: Decimal = Decimal(0)
    """How far a unit price may differ from the PO's without an exception (e.g. 0.05)."""


class CsvColumns(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which column of the vendor's CSV invoice holds each field (header names, as written)."""

    invoice_number: str = "invoice_number"
    invoice_date: str = "invoice_date"
    po_number: str = "po_number"
    vendor_item: str = "vendor_item"
    description: str = "description"
    quantity: str = "quantity"
    unit: str = "unit"
    unit_cost: str = "unit_cost"
    extended: str = "extended"
    catch_weight: str = "catch_weight"
    date_format: str = "%Y-%m-%d"


class X12Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """No secrets here: the transport (SFTP) holds the credentials."""

    our_id: str = "EXPEDITER"
    """Our interchange id (ISA06 of what we send, ISA08 of what we receive)."""
    our_qualifier: str = "ZZ"
    partner_id: str = ""
    """The vendor's interchange id (ISA08 of what we send); required to send 850s."""
    partner_qualifier: str = "ZZ"
    usage: Literal["P", "T"] = "P"
    """ISA15 of what we send: ``P`` production, ``T`` test."""
    strict: bool = False
    """Count and control-number mismatches in received envelopes are rejections, not warnings."""
    purchasing: PurchasingPolicy = msgspec.field(default_factory=PurchasingPolicy)
    csv: CsvColumns = msgspec.field(default_factory=CsvColumns)
    """Column names of the vendor's CSV invoices (``format = "csv-invoice"``)."""
    recipes: str = ""
    """The recipe book whose par levels make the purchase orders (as for the csv connector)."""
    ship_to_name: str = ""
    """The name on the 850's ship-to (N1*ST); the location's name when empty."""
    vendor_name: str = ""
    """The vendor's name on AP bills (the accounting system's vendor); the system id when empty."""
