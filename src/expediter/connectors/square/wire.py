"""Square's own JSON shapes, as far as the hub reads them (unknown fields are ignored).

Only what the mapping needs is declared. Card details stop at brand and last four: the rest of what
Square sends about a card (fingerprint, BIN, expiry) is never decoded, so it cannot leak onward.
Timestamps stay strings here because Square writes nanoseconds; :func:`parse_time` reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class SqMoney(msgspec.Struct):
    amount: int = 0
    currency: str = "USD"


class SqAppliedDiscount(msgspec.Struct):
    discount_uid: str
    applied_money: SqMoney | None = None
    uid: str | None = None


class SqAppliedTax(msgspec.Struct):
    tax_uid: str
    applied_money: SqMoney | None = None
    uid: str | None = None


class SqModifier(msgspec.Struct):
    name: str = ""
    uid: str | None = None
    catalog_object_id: str | None = None
    quantity: str = "1"
    base_price_money: SqMoney | None = None
    total_price_money: SqMoney | None = None


class SqLineItem(msgspec.Struct):
    quantity: str
    uid: str | None = None
    name: str = ""
    catalog_object_id: str | None = None
    variation_name: str | None = None
    note: str | None = None
    item_type: str = "ITEM"
    """``ITEM``, ``CUSTOM_AMOUNT`` or ``GIFT_CARD``."""
    base_price_money: SqMoney | None = None
    gross_sales_money: SqMoney | None = None
    total_money: SqMoney | None = None
    modifiers: list[SqModifier] = []
    applied_discounts: list[SqAppliedDiscount] = []
    applied_taxes: list[SqAppliedTax] = []


class SqDiscount(msgspec.Struct):
    uid: str | None = None
    name: str = ""
    scope: str = "ORDER"
    """``ORDER`` (spread over the lines by Square) or ``LINE_ITEM``."""
    type: str | None = None
    percentage: str | None = None
    catalog_object_id: str | None = None
    amount_money: SqMoney | None = None
    applied_money: SqMoney | None = None


class SqTax(msgspec.Struct):
    uid: str | None = None
    name: str = ""
    type: str = "ADDITIVE"
    """``ADDITIVE`` or ``INCLUSIVE``."""
    percentage: str | None = None
    scope: str = "ORDER"
    applied_money: SqMoney | None = None


class SqServiceCharge(msgspec.Struct):
    uid: str | None = None
    name: str = ""
    type: str | None = None
    """``AUTO_GRATUITY`` or ``CUSTOM``."""
    calculation_phase: str | None = None
    taxable: bool = False
    amount_money: SqMoney | None = None
    applied_money: SqMoney | None = None
    total_money: SqMoney | None = None
    total_tax_money: SqMoney | None = None


class SqCard(msgspec.Struct):
    card_brand: str | None = None
    last_4: str | None = None


class SqCardDetails(msgspec.Struct):
    card: SqCard | None = None


class SqTender(msgspec.Struct):
    type: str
    id: str | None = None
    amount_money: SqMoney | None = None
    tip_money: SqMoney | None = None
    card_details: SqCardDetails | None = None
    payment_id: str | None = None
    created_at: str | None = None


class SqRefund(msgspec.Struct):
    id: str
    amount_money: SqMoney | None = None
    reason: str = ""
    tender_id: str | None = None
    status: str | None = None
    created_at: str | None = None


class SqReturnLineItem(msgspec.Struct):
    uid: str | None = None
    source_line_item_uid: str | None = None
    name: str = ""
    quantity: str = "1"


class SqMoneyAmounts(msgspec.Struct):
    total_money: SqMoney | None = None


class SqReturn(msgspec.Struct):
    uid: str | None = None
    source_order_id: str | None = None
    return_line_items: list[SqReturnLineItem] = []


class SqFulfillment(msgspec.Struct):
    uid: str | None = None
    type: str | None = None
    """``PICKUP``, ``DELIVERY``, ``SHIPMENT``, ``DINE_IN``, ``DIGITAL``."""
    state: str | None = None


class SqSource(msgspec.Struct):
    name: str | None = None


class SqOrder(msgspec.Struct):
    location_id: str
    id: str | None = None
    """Absent on a CalculateOrder result, which is a quote rather than a stored order."""
    reference_id: str | None = None
    ticket_name: str | None = None
    source: SqSource | None = None
    state: str = "OPEN"
    version: int = 1
    created_at: str | None = None
    updated_at: str | None = None
    closed_at: str | None = None
    line_items: list[SqLineItem] = []
    discounts: list[SqDiscount] = []
    taxes: list[SqTax] = []
    service_charges: list[SqServiceCharge] = []
    fulfillments: list[SqFulfillment] = []
    tenders: list[SqTender] = []
    refunds: list[SqRefund] = []
    returns: list[SqReturn] = []
    return_amounts: SqMoneyAmounts | None = None
    total_money: SqMoney | None = None
    total_tax_money: SqMoney | None = None
    total_discount_money: SqMoney | None = None
    total_service_charge_money: SqMoney | None = None
    total_tip_money: SqMoney | None = None


class SqOrderEnvelope(msgspec.Struct):
    """Create/Retrieve/Update/Pay/Calculate order responses all carry ``order``."""

    order: SqOrder


class SqSearchOrdersResponse(msgspec.Struct):
    orders: list[SqOrder] = []
    cursor: str | None = None


class SqEventData(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    object: dict[str, Any] = {}


class SqEvent(msgspec.Struct):
    """A webhook notification's envelope; ``data.object`` depends on ``type``."""

    event_id: str
    type: str
    merchant_id: str | None = None
    created_at: str | None = None
    data: SqEventData = msgspec.field(default_factory=SqEventData)

    def inner(self) -> dict[str, Any]:
        """The one object the event is about (``order_created``, ``payment``, ``timecard``...)."""
        for value in self.data.object.values():
            if isinstance(value, dict):
                return value
        return {}


class SqWage(msgspec.Struct):
    title: str | None = None
    job_id: str | None = None
    hourly_rate: SqMoney | None = None
    tip_eligible: bool = False


class SqBreak(msgspec.Struct):
    start_at: str
    end_at: str | None = None
    is_paid: bool = False


class SqTimecard(msgspec.Struct):
    """Labor API timecard (formerly "shift"); the fixtures use the newer name."""

    id: str
    location_id: str
    start_at: str
    team_member_id: str | None = None
    employee_id: str | None = None
    end_at: str | None = None
    version: int = 1
    wage: SqWage | None = None
    breaks: list[SqBreak] = []
    declared_cash_tip_money: SqMoney | None = None


def parse_time(text: str) -> datetime:
    """Square's RFC 3339 timestamps (``Z``, offsets, up to nanoseconds) as aware datetimes."""
    value = text.strip()
    if "." in value:
        head, _, rest = value.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"Square timestamp {text!r} has no UTC offset")
    return parsed
