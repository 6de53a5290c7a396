"""Purchasing: invoices matched to purchase orders, exceptions, ingredient costs and AP bills.

Works on the canonical model (:mod:`expediter.model.vendors`) only; connectors read and write the
vendors' formats and the engine puts the two together.
"""

from expediter.operations.purchasing.bills import bill_for
from expediter.operations.purchasing.costs import costs_from_invoice, with_costs
from expediter.operations.purchasing.matching import (
    ExceptionKind,
    InvoiceException,
    LineMatch,
    MatchResult,
    VendorPolicy,
    Winner,
    match_invoice,
)
from expediter.operations.purchasing.store import (
    ExceptionState,
    IngredientCost,
    InvoiceState,
    PurchasingStore,
    Resolution,
    StoredException,
    StoredInvoice,
)

__all__ = [
    "ExceptionKind",
    "ExceptionState",
    "IngredientCost",
    "InvoiceException",
    "InvoiceState",
    "LineMatch",
    "MatchResult",
    "PurchasingStore",
    "Resolution",
    "StoredException",
    "StoredInvoice",
    "VendorPolicy",
    "Winner",
    "bill_for",
    "costs_from_invoice",
    "match_invoice",
    "with_costs",
]
