"""Xero settings: the tax rate name and tracking category the manual journal import needs."""

from __future__ import annotations

import msgspec


class XeroSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    tax_rate: str = "Tax Exempt"
    """The full tax-rate name as in Xero's tax settings; journals of sales totals carry no tax."""
    tracking_name: str = "Dining option"
    """Xero tracking category that receives the line's dimension (when the journal has one)."""
    account_codes: dict[str, str] = {}
    """Account as mapped → Xero account code; by default the leading number (``4000 Food`` → 4000)."""
