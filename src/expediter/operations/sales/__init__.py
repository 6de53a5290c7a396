"""Sales: the daily sales summary and the product mix of a location's business date.

``summarize_day(location, business_date, orders)`` and ``product_mix(...)`` are pure; ``close_day``
builds both in one pass over the orders. ``reconciliation_errors`` / ``mix_errors`` check them.
"""

from expediter.model.sales import (
    ProductMixRow,
    SalesSummary,
    mix_errors,
    reconciliation_errors,
)
from expediter.operations.sales.close import SalesDay, close_day, product_mix, summarize_day

__all__ = [
    "ProductMixRow",
    "SalesDay",
    "SalesSummary",
    "close_day",
    "mix_errors",
    "product_mix",
    "reconciliation_errors",
    "summarize_day",
]
