"""Xero settings: the organisation's region (its date format), tax rate and tracking category."""

from __future__ import annotations

from typing import Literal

import msgspec

MONTH_FIRST_REGIONS = frozenset({"US"})
"""Regions whose Xero organisations write dates month first (``mm/dd/yyyy``)."""


class XeroSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    tax_rate: str = "Tax Exempt"
    """The full tax-rate name as in Xero's tax settings; journals of sales totals carry no tax."""
    tracking_name: str = "Dining option"
    """Xero tracking category that receives the line's dimension (when the journal has one)."""
    account_codes: dict[str, str] = {}
    """Account as mapped → Xero account code; by default the leading number (``4000 Food`` → 4000)."""
    region: str = ""
    """The Xero organisation's country (``US``, ``GB``, ``AU``, ``NZ``...): the manual journal
    import reads ``*Date`` in the organisation's regional format, month first in the US."""
    date_format: Literal["", "dd/mm/yyyy", "mm/dd/yyyy"] = ""
    """Overrides the region's date format; empty: from ``region`` (``dd/mm/yyyy`` unless US)."""

    def date_pattern(self) -> str:
        """The strftime pattern of the ``*Date`` column."""
        chosen = self.date_format or (
            "mm/dd/yyyy" if self.region.strip().upper() in MONTH_FIRST_REGIONS else "dd/mm/yyyy"
        )
        return "%m/%d/%Y" if chosen == "mm/dd/yyyy" else "%d/%m/%Y"
