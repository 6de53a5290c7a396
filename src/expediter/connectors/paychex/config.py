"""Settings of the Paychex Standard Payroll Import export (``[systems.settings]`` of a paychex system).

Pay component names must match the earnings set up on the Paychex client, exactly (they are case
sensitive there); the defaults are the usual names, to be confirmed by the payroll admin.
"""

from __future__ import annotations

import msgspec


class PaychexSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    client_id: str
    """The Paychex client (branch/company) number, up to 8 characters."""
    regular_component: str = "Hourly"
    overtime_component: str = "Overtime"
    """Set up in Paychex at 1.5× the rate sent."""
    double_time_component: str = "Double Time"
    """Set up in Paychex at 2× the rate sent."""
    card_tips_component: str = "Tips"
    """The tips rung on the POS (card, cash and other tenders), paid out."""
    declared_cash_tips_component: str = "Cash Tips"
    """Declared cash tips: set it up in Paychex as a memo (reported, not paid) earning."""
    service_charge_component: str = "Service Charge"
    regular_rate_adjustment_component: str = "Overtime Adjustment"
    """The regular-rate overtime adjustment (several rates in a week, a tip credit); empty: left
    out, and Paychex pays overtime at 1.5 × the rate of each row."""
    split_shift_component: str = "Split Shift"
    """California's split-shift premium."""
    send_job_number: bool = False
    """Send the job code as ``Job Number`` (only when the same job numbers exist in Paychex)."""
