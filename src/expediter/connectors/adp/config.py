"""Settings of the ADP Workforce Now paydata export (``[systems.settings]`` of an adp system).

Codes must match the hours, earnings and memo codes set up on the company in ADP; the defaults are
only placeholders that a payroll admin confirms. ADP's hours codes are one or two characters.
"""

from __future__ import annotations

import msgspec


class AdpSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    company_code: str
    """ADP company code ("Co Code"), 2-3 characters; it also names the file ``PR<code>EPI.csv``."""
    batch_id: str = ""
    """Paydata batch id; empty: ``EX`` + the period end as ``MMDD``."""
    double_time_hours_code: str = "D"
    """The hours code (1-2 characters) set up at 2× the rate, for double time (``Hours 3``)."""
    card_tips_earnings_code: str = "T"
    """Earnings code for the tips rung on the POS (card, cash and other tenders), paid out."""
    service_charge_earnings_code: str = "SC"
    regular_rate_adjustment_code: str = "RA"
    """Earnings code for the regular-rate overtime adjustment (several rates in a week, a tip
    credit); empty: left out, and ADP pays overtime at 1.5 × the Temp Rate of each row."""
    split_shift_earnings_code: str = "SS"
    """Earnings code for California's split-shift premium."""
    declared_cash_tips_memo_code: str = "CT"
    """Memo code for declared cash tips: reported income, not paid again."""
    declared_cash_tips_earnings_code: str = ""
    """The former name of ``declared_cash_tips_memo_code`` (used as the memo code when set)."""
    send_temp_rate: bool = True
    """Send the job's rate as ``Temp Rate`` (employees with several jobs and rates need it)."""
