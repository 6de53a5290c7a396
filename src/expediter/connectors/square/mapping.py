"""Square order → canonical :class:`~expediter.model.order.Order` (and timecard → ``TimePunch``).

Choices that decide the books:

- **Discounts.** Square spreads an ``ORDER``-scope discount over the lines (``applied_discounts``);
  the canonical order keeps it once, in ``Order.discounts``, with Square's order-level applied amount.
  ``LINE_ITEM``-scope discounts stay on their lines. Counting both would discount twice.
- **Taxes** come from ``order.taxes[].applied_money`` (the sum Square applied), ``INCLUSIVE`` taxes
  are part of the price and not added to the total, as in Square. ``Tax.rate`` is a fraction (9 % →
  ``0.09``).
- **Service charges** keep Square's pre-tax ``applied_money``; their tax is in the order's taxes.
  Square's ``AUTO_GRATUITY`` type marks an auto-gratuity (wages, not a tip).
- **Tenders**: Square's ``amount_money`` includes the tip; the canonical ``Payment.amount`` does not.
  Only the card brand and last four digits are kept.
- Square's ``total_money`` includes tips; :func:`reconcile` compares accordingly.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from expediter.connectors.square.wire import (
    SqBreak,
    SqDiscount,
    SqLineItem,
    SqModifier,
    SqMoney,
    SqOrder,
    SqServiceCharge,
    SqTax,
    SqTender,
    SqTimecard,
    parse_time,
)
from expediter.model.labor import Break, PunchSource, TimePunch
from expediter.model.money import Money, total
from expediter.model.order import (
    DiningOption,
    Discount,
    Line,
    LineKind,
    Modifier,
    Order,
    OrderState,
    Payment,
    Refund,
    ServiceCharge,
    Tax,
    TaxKind,
    TenderType,
    order_totals,
)
from expediter.plugin import RejectedInput

_STATES = {
    "OPEN": OrderState.OPEN,
    "DRAFT": OrderState.OPEN,  # never emitted: SquareOrders.messages_for skips drafts
    "COMPLETED": OrderState.COMPLETED,
    "CANCELED": OrderState.CANCELED,
}
_DINING = {
    "PICKUP": DiningOption.PICKUP,
    "DELIVERY": DiningOption.DELIVERY,
    "SHIPMENT": DiningOption.DELIVERY,
    "DINE_IN": DiningOption.DINE_IN,
}
_TENDERS = {
    "CARD": TenderType.CARD,
    "THIRD_PARTY_CARD": TenderType.CARD,
    "CASH": TenderType.CASH,
    "SQUARE_GIFT_CARD": TenderType.GIFT_CARD,
}


def hub_order_id(source_system: str, square_order_id: str) -> str:
    """The hub's stable id for a Square order: the same for every version of it."""
    return f"{source_system}-{square_order_id}"


def money(value: SqMoney | None, currency: str) -> Money:
    if value is None:
        return Money(0, currency)
    return Money(value.amount, value.currency or currency)


def quantity(text: str, where: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise RejectedInput(f"quantity {text!r} is not a decimal", where=where) from exc


def order_from_square(sq: SqOrder, *, source_system: str, location_id: str, fallback_id: str = "") -> Order:
    """Map one Square order. ``fallback_id`` names an order Square gave no id (a CalculateOrder quote)."""
    currency = _currency(sq)
    square_id = sq.id or fallback_id
    if not square_id:
        raise RejectedInput("the Square order has no id", where="$.order.id")
    if not sq.created_at:
        raise RejectedInput("the Square order has no created_at", where="$.order.created_at")
    line_scoped = _line_scoped_discount_uids(sq.discounts)
    return Order(
        id=hub_order_id(source_system, square_id),
        external_id=sq.id,
        source_system=source_system,
        location_id=location_id,
        version=sq.version,
        opened_at=parse_time(sq.created_at),
        closed_at=parse_time(sq.closed_at) if sq.closed_at else None,
        state=_STATES.get(sq.state, OrderState.OPEN),
        dining_option=_dining_option(sq),
        currency=currency,
        lines=[_line(item, i, currency, sq.discounts, line_scoped) for i, item in enumerate(sq.line_items)],
        discounts=_order_discounts(sq, currency),
        taxes=[_tax(tax, sq, currency) for tax in sq.taxes],
        service_charges=[_service_charge(charge, currency) for charge in sq.service_charges],
        payments=[_payment(tender, i, currency) for i, tender in enumerate(sq.tenders)],
        refunds=_refunds(sq, currency),
        notes=sq.reference_id or "",
    )


def _currency(sq: SqOrder) -> str:
    for value in (sq.total_money, *(item.base_price_money for item in sq.line_items)):
        if value is not None:
            return value.currency
    return "USD"


def _line_scoped_discount_uids(discounts: list[SqDiscount]) -> set[str]:
    return {d.uid for d in discounts if d.uid and d.scope == "LINE_ITEM"}


def _line(
    item: SqLineItem, index: int, currency: str, discounts: list[SqDiscount], line_scoped: set[str]
) -> Line:
    order_scoped = {d.uid for d in discounts if d.uid} - line_scoped
    by_uid = {d.uid: d for d in discounts if d.uid}
    name = item.name or item.variation_name or "Custom amount"
    if item.variation_name and item.name and item.variation_name != "Regular":
        name = f"{item.name} ({item.variation_name})"
    return Line(
        id=item.uid or f"line-{index}",
        name=name,
        quantity=quantity(item.quantity, f"$.order.line_items[{index}].quantity"),
        unit_price=money(item.base_price_money, currency),
        item_id=item.catalog_object_id,
        kind=LineKind.GIFT_CARD if item.item_type == "GIFT_CARD" else LineKind.ITEM,
        modifiers=[_modifier(m, currency) for m in item.modifiers],
        notes=item.note or "",
        discounts=[
            Discount(
                name=by_uid[a.discount_uid].name if a.discount_uid in by_uid else a.discount_uid,
                amount=money(a.applied_money, currency),
                discount_id=_discount_id(by_uid.get(a.discount_uid), a.discount_uid),
            )
            for a in item.applied_discounts
            if a.discount_uid not in order_scoped
        ],
    )


def _modifier(modifier: SqModifier, currency: str) -> Modifier:
    return Modifier(
        name=modifier.name,
        modifier_id=modifier.catalog_object_id,
        quantity=quantity(modifier.quantity, "$.order.line_items[].modifiers[].quantity"),
        unit_price=money(modifier.base_price_money, currency),
    )


def _discount_id(discount: SqDiscount | None, uid: str) -> str:
    if discount is not None and discount.catalog_object_id:
        return discount.catalog_object_id
    return uid


def _order_discounts(sq: SqOrder, currency: str) -> list[Discount]:
    result = []
    for discount in sq.discounts:
        if discount.scope == "LINE_ITEM":
            continue
        amount = discount.applied_money
        applied = money(amount, currency) if amount is not None else _applied_on_lines(sq, discount, currency)
        result.append(
            Discount(
                name=discount.name,
                amount=applied,
                reason="order",
                discount_id=_discount_id(discount, discount.uid or discount.name),
            )
        )
    return result


def _applied_on_lines(sq: SqOrder, discount: SqDiscount, currency: str) -> Money:
    return total(
        (
            money(a.applied_money, currency)
            for item in sq.line_items
            for a in item.applied_discounts
            if a.discount_uid == discount.uid
        ),
        currency,
    )


def _tax(tax: SqTax, sq: SqOrder, currency: str) -> Tax:
    if tax.applied_money is not None:
        amount = money(tax.applied_money, currency)
    else:
        amount = total(
            (
                money(a.applied_money, currency)
                for item in sq.line_items
                for a in item.applied_taxes
                if a.tax_uid == tax.uid
            ),
            currency,
        )
    rate = Decimal(tax.percentage) / 100 if tax.percentage else None
    kind = TaxKind.INCLUSIVE if tax.type == "INCLUSIVE" else TaxKind.ADDITIVE
    return Tax(name=tax.name, amount=amount, kind=kind, rate=rate)


def _service_charge(charge: SqServiceCharge, currency: str) -> ServiceCharge:
    amount = charge.applied_money or charge.amount_money
    return ServiceCharge(
        name=charge.name,
        amount=money(amount, currency),
        auto_gratuity=charge.type == "AUTO_GRATUITY",
        taxable=charge.taxable,
    )


def _payment(tender: SqTender, index: int, currency: str) -> Payment:
    paid = money(tender.amount_money, currency)
    tip = money(tender.tip_money, currency)
    card = tender.card_details.card if tender.card_details else None
    return Payment(
        id=tender.id or tender.payment_id or f"tender-{index}",
        tender=_TENDERS.get(tender.type, TenderType.OTHER),
        amount=paid - tip,
        tip=tip,
        card_brand=card.card_brand if card else None,
        last4=card.last_4 if card else None,
        created_at=parse_time(tender.created_at) if tender.created_at else None,
    )


def _refunds(sq: SqOrder, currency: str) -> list[Refund]:
    returned = [
        r.source_line_item_uid for ret in sq.returns for r in ret.return_line_items if r.source_line_item_uid
    ]
    return [
        Refund(
            id=refund.id,
            amount=money(refund.amount_money, currency),
            reason=refund.reason,
            payment_id=refund.tender_id,
            line_ids=returned,
            created_at=parse_time(refund.created_at) if refund.created_at else None,
        )
        for refund in sq.refunds
        if refund.status not in ("REJECTED", "FAILED")
    ]


def _dining_option(sq: SqOrder) -> DiningOption:
    for fulfillment in sq.fulfillments:
        if fulfillment.type in _DINING:
            return _DINING[fulfillment.type]
    return DiningOption.DINE_IN


def reconcile(sq: SqOrder, order: Order) -> list[str]:
    """Differences between Square's own totals and the canonical ones; empty when they agree.

    Square's ``total_money`` includes tips, the canonical ``total`` does not.
    """
    totals = order_totals(order)
    cur = order.currency
    pairs = [
        ("total_money", sq.total_money, totals.total + totals.tips),
        ("total_tax_money", sq.total_tax_money, totals.tax),
        ("total_discount_money", sq.total_discount_money, totals.discounts),
        ("total_service_charge_money", sq.total_service_charge_money, totals.service_charges),
        ("total_tip_money", sq.total_tip_money, totals.tips),
    ]
    return [
        f"{name}: Square {money(theirs, cur).format()}, hub {ours.format()}"
        for name, theirs, ours in pairs
        if money(theirs, cur) != ours
    ]


def punch_from_timecard(timecard: SqTimecard, *, location_id: str) -> TimePunch:
    """A Square timecard as one canonical shift; the job code is Square's job id (or title)."""
    wage = timecard.wage
    currency = wage.hourly_rate.currency if wage and wage.hourly_rate else "USD"
    return TimePunch(
        id=timecard.id,
        employee_id=timecard.team_member_id or timecard.employee_id or "unknown",
        location_id=location_id,
        job_code=(wage.job_id or wage.title or "") if wage else "",
        clock_in=parse_time(timecard.start_at),
        clock_out=parse_time(timecard.end_at) if timecard.end_at else None,
        hourly_wage=money(wage.hourly_rate if wage else None, currency),
        breaks=[_break(b) for b in timecard.breaks],
        declared_cash_tips=money(timecard.declared_cash_tip_money, currency),
        source=PunchSource.POS,
        version=timecard.version,
    )


def _break(square_break: SqBreak) -> Break:
    return Break(
        start=parse_time(square_break.start_at),
        end=parse_time(square_break.end_at) if square_break.end_at else None,
        paid=square_break.is_paid,
    )
