"""Settings of the ADP Workforce Now paydata export (``[systems.settings]`` of an adp system).

Codes must match the hours and earnings codes set up on the company in ADP; the defaults are only
placeholders that a payroll admin confirms.
"""

from __future__ import annotations

import msgspec


class AdpSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    company_code: str
    """ADP company code ("Co Code"), 2-3 characters; it also names the file ``PR<code>EPI.csv``."""
    batch_id: str = ""
    """Paydata batch id; empty: ``EX`` + the period end as ``MMDD``."""
    double_time_hours_code: str = "D"
    card_tips_earnings_code: str = "T"
    declared_cash_tips_earnings_code: str = "CT"
    service_charge_earnings_code: str = "SC"
    send_temp_rate: bool = True
    """Send the job's rate as ``Temp Rate`` (employees with several jobs and rates need it)."""
