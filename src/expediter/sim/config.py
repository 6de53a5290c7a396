"""Knobs of the simulated restaurant, with the defaults a New York casual grill would have."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec


class CheckKind(StrEnum):
    """How the guest ordered; decides the dining option, source, revenue center and tenders."""

    TABLE = "table"
    BAR = "bar"
    TAKEOUT = "takeout"
    ONLINE = "online"
    MARKETPLACE = "marketplace"


class SimConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about a simulated day that is not chance."""

    orders_per_day: int = 1500
    """At ``scale=1.0``; ``simulate_day(..., scale=0.1)`` makes a tenth of that."""
    tax_rate: Decimal = Decimal("0.08875")
    """Additive sales tax, computed on each check's net sales and rounded half to even."""
    tax_name: str = "Sales Tax"
    auto_gratuity_rate: Decimal = Decimal("0.18")
    auto_gratuity_party: int = 6
    """Parties of this many guests or more get the auto-gratuity service charge."""
    happy_hour_start: int = 15 * 60
    happy_hour_end: int = 18 * 60
    """Local minutes after midnight; alcohol rung in between is discounted."""
    happy_hour_discount: Decimal = Decimal("0.25")
    employee_discount: Decimal = Decimal("0.50")
    updated_versions: bool = False
    """When true, a few table checks are emitted twice: version 1 open, version 2 with a late
    dessert round added and paid (same ``id``, higher ``version``)."""


DEFAULT_CONFIG = SimConfig()

MARKETPLACES = ("DoorDash", "Uber Eats", "Grubhub")
MARKETPLACE_PREFIX = {"DoorDash": "DD", "Uber Eats": "UE", "Grubhub": "GH"}
MARKETPLACE_WEIGHTS = (50, 35, 15)
CARD_BRANDS = ("VISA", "MASTERCARD", "AMEX", "DISCOVER")
CARD_BRAND_WEIGHTS = (50, 28, 15, 7)
VOID_REASONS = ("entered in error", "guest changed mind", "wrong item rung", "86'd after ring-in")
COMP_REASONS = ("remake", "guest recovery", "birthday dessert", "manager meal", "long wait")
REFUND_REASONS = ("wrong order", "quality complaint", "item missing", "overcharged")
