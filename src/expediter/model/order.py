"""Orders: the check as the kitchen, the back office and the bookkeeper need it.

Void, comp, discount and refund are distinct things here, because they are distinct in the books:

- a **void** removes a line that was never served (``Line.voided``): no revenue, no usage cost;
- a **comp** gives away a line that was served (``Line.comp``): revenue and an equal contra-revenue;
- a **discount** lowers the price (``Line.discounts`` or ``Order.discounts``): contra-revenue by reason;
- a **refund** returns money after payment (``Order.refunds``).

Every amount is :class:`Money`; every quantity is a :class:`~decimal.Decimal`; every timestamp is
timezone-aware. ``business_date`` is set by the hub from the location's clock, never by the sender.

Orders encode compactly (``omit_defaults``): a field at its default (``voided: false``, an empty
list, a modifier's quantity of 1, ...) is left out of the JSON, as in the OpenAPI schema's
``default``. A stored order is about half the size (1.1 KB instead of 2.3 KB for a three-line
check), which halves what each accepted order writes to disk. :class:`Money` always carries its
currency.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum

import msgspec

from expediter.errors import RejectedInput
from expediter.model.bounds import (
    MAX_QUANTITY,
    Count,
    Id,
    Version,
    Window,
    bad_quantity,
    bad_rate,
    implausible_time,
    negative_amount,
    quantity_ok,
    rate_ok,
)
from expediter.model.money import Money, total, zero
from expediter.model.time import AwareDatetime


class OrderState(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELED = "canceled"


class DiningOption(StrEnum):
    DINE_IN = "dine_in"
    TAKEOUT = "takeout"
    DELIVERY = "delivery"
    PICKUP = "pickup"
    DRIVE_THRU = "drive_thru"


class OrderSource(StrEnum):
    POS = "pos"
    ONLINE = "online"
    MARKETPLACE = "marketplace"
    KIOSK = "kiosk"
    PHONE = "phone"
    API = "api"


class LineKind(StrEnum):
    ITEM = "item"
    GIFT_CARD = "gift_card"
    """A gift card sold: a liability, not revenue."""


class ModifierAction(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    """"No onions": the ingredient is taken out of the recipe."""
    NOTE = "note"


class TaxKind(StrEnum):
    ADDITIVE = "additive"
    INCLUSIVE = "inclusive"


class TenderType(StrEnum):
    CARD = "card"
    CASH = "cash"
    GIFT_CARD = "gift_card"
    MARKETPLACE = "marketplace"
    HOUSE_ACCOUNT = "house_account"
    OTHER = "other"


class Modifier(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A modifier on a line or on another modifier (``modifiers`` nests: a side's own choices)."""

    name: str
    modifier_id: Id | None = None
    plu: Id | None = None
    action: ModifierAction = ModifierAction.ADD
    quantity: Decimal = Decimal(1)
    unit_price: Money = Money(0)
    station: str | None = None
    """Route this modifier to another station than its line (e.g. a side of fries to fry)."""
    modifiers: list[Modifier] = []


class Discount(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    name: str
    amount: Money
    reason: str = ""
    discount_id: Id | None = None


class Comp(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """The whole line given away after it was made (manager's meal, a remake, a guest recovery)."""

    reason: str
    amount: Money
    approved_by: str | None = None


class Line(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    id: Id
    name: str
    quantity: Decimal
    unit_price: Money
    variation: str = ""
    """The size or variation the POS sells separately (Square's variation name), e.g. "Large"."""
    item_id: Id | None = None
    plu: Id | None = None
    category: str = "uncategorized"
    kind: LineKind = LineKind.ITEM
    modifiers: list[Modifier] = []
    stations: list[str] = []
    """Kitchen stations from the menu; empty means the router decides by category."""
    course: Count | None = None
    seat: Count | None = None
    notes: str = ""
    discounts: list[Discount] = []
    comp: Comp | None = None
    voided: bool = False
    void_reason: str = ""


class Tax(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    name: str
    amount: Money
    kind: TaxKind = TaxKind.ADDITIVE
    rate: Decimal | None = None
    """A fraction: 8.875 % is ``Decimal("0.08875")``."""
    marketplace_facilitator: bool = False
    """Collected and remitted by the marketplace itself: not the restaurant's tax payable."""


class ServiceCharge(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A charge on the check; auto-gratuity is one, and it is wages, not a tip."""

    name: str
    amount: Money
    auto_gratuity: bool = False
    taxable: bool = False


class Payment(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A tender. Only the last four digits of a card are ever kept."""

    id: Id
    tender: TenderType
    amount: Money
    """What the tender paid towards the check, tip excluded."""
    tip: Money = Money(0)
    card_brand: str | None = None
    last4: str | None = None
    marketplace: str | None = None
    created_at: AwareDatetime | None = None


class Refund(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    id: Id
    amount: Money
    reason: str = ""
    payment_id: Id | None = None
    line_ids: list[Id] = []
    created_at: AwareDatetime | None = None


class Order(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """One check. ``id`` is the hub's stable id; ``external_id`` the POS's own."""

    id: Id
    location_id: Id
    opened_at: AwareDatetime
    lines: list[Line]
    version: Version = 1
    external_id: Id | None = None
    source: OrderSource = OrderSource.POS
    source_system: Id | None = None
    state: OrderState = OrderState.OPEN
    dining_option: DiningOption = DiningOption.DINE_IN
    revenue_center: str = "main"
    table: str | None = None
    guest_count: Count = 1
    employee_id: Id | None = None
    customer_name: str = ""
    """First name or label for the pass (online and takeout orders), never payment details."""
    promised_at: AwareDatetime | None = None
    """When the guest or courier expects the order (pickup time)."""
    closed_at: AwareDatetime | None = None
    business_date: date | None = None
    currency: str = "USD"
    discounts: list[Discount] = []
    taxes: list[Tax] = []
    service_charges: list[ServiceCharge] = []
    payments: list[Payment] = []
    refunds: list[Refund] = []
    notes: str = ""


MAX_MODIFIER_DEPTH = 8
"""A side's own choices nest; eight levels deep is already no kitchen's menu."""


def refuse_implausible_order(order: Order, now: datetime | None = None) -> None:
    """What the types cannot say (:mod:`expediter.model.bounds`): quantities and rates that are
    finite and in range, prices of zero or more, modifiers at most :data:`MAX_MODIFIER_DEPTH`
    deep and, when ``now`` is given (the hub's clock), times within the
    :class:`~expediter.model.bounds.Window` around it. Raises :class:`RejectedInput` naming the
    JSON path of the first problem.

    On the ingest hot path: a tight predicate first (about 2 µs for a three-line check); only an
    order it fails is walked again to say what is wrong and where."""
    window = Window.around(now) if now is not None else None
    if _plausible(order, window):
        return
    _refuse_values(order)
    if window is not None:
        _refuse_times(order, window)


def _plausible(order: Order, window: Window | None) -> bool:
    """Written for speed (it runs for every order posted): plain loops, locals, no paths."""
    low, high = _ZERO, MAX_QUANTITY
    try:  # an ordering comparison with a NaN raises: that is a "no" too
        for line in order.lines:
            if not low <= line.quantity <= high or line.unit_price.amount < 0:
                return False
            for modifier in line.modifiers:
                if not low <= modifier.quantity <= high or modifier.unit_price.amount < 0:
                    return False
                if modifier.modifiers and not _modifiers_plausible(modifier.modifiers, 2):
                    return False
        for tax in order.taxes:
            if tax.rate is not None and not low <= tax.rate <= _ONE:
                return False
    except InvalidOperation:
        return False
    return window is None or _times_plausible(order, window.earliest, window.latest)


def _modifiers_plausible(modifiers: list[Modifier], depth: int) -> bool:
    if depth > MAX_MODIFIER_DEPTH:
        return False
    for modifier in modifiers:
        if not _ZERO <= modifier.quantity <= MAX_QUANTITY or modifier.unit_price.amount < 0:
            return False
        if modifier.modifiers and not _modifiers_plausible(modifier.modifiers, depth + 1):
            return False
    return True


def _times_plausible(order: Order, earliest: date, latest: date) -> bool:
    if not earliest <= order.opened_at.date() <= latest:
        return False
    closed, promised = order.closed_at, order.promised_at
    if closed is not None and not earliest <= closed.date() <= latest:
        return False
    if promised is not None and not earliest <= promised.date() <= latest:
        return False
    for payment in order.payments:
        if payment.created_at is not None and not earliest <= payment.created_at.date() <= latest:
            return False
    for refund in order.refunds:
        if refund.created_at is not None and not earliest <= refund.created_at.date() <= latest:
            return False
    return True


def _refuse_values(order: Order) -> None:
    for index, line in enumerate(order.lines):
        if not quantity_ok(line.quantity):
            raise bad_quantity(line.quantity, f"$.lines[{index}].quantity")
        if line.unit_price.amount < 0:
            raise negative_amount(line.unit_price.amount, f"$.lines[{index}].unit_price.amount")
        if line.modifiers:
            _refuse_bad_modifiers(line.modifiers, index, [], 1)
    for index, tax in enumerate(order.taxes):
        if tax.rate is not None and not rate_ok(tax.rate):
            raise bad_rate(tax.rate, f"$.taxes[{index}].rate")


def _refuse_bad_modifiers(modifiers: list[Modifier], line: int, above: list[int], depth: int) -> None:
    """``above``: the indexes of the modifiers these nest in, to name the path of a bad one."""
    if depth > MAX_MODIFIER_DEPTH:
        raise RejectedInput(
            f"modifiers nest more than {MAX_MODIFIER_DEPTH} levels deep",
            where=_modifier_path(line, above) + ".modifiers",
            fix="send a modifier's own choices at most a few levels deep",
        )
    for index, modifier in enumerate(modifiers):
        if not quantity_ok(modifier.quantity):
            raise bad_quantity(modifier.quantity, _modifier_path(line, [*above, index]) + ".quantity")
        if modifier.unit_price.amount < 0:
            where = _modifier_path(line, [*above, index]) + ".unit_price.amount"
            raise negative_amount(modifier.unit_price.amount, where)
        if modifier.modifiers:
            _refuse_bad_modifiers(modifier.modifiers, line, [*above, index], depth + 1)


def _modifier_path(line: int, indexes: list[int]) -> str:
    return f"$.lines[{line}]" + "".join(f".modifiers[{index}]" for index in indexes)


def _refuse_times(order: Order, window: Window) -> None:
    for where, ts in (
        ("$.opened_at", order.opened_at),
        ("$.closed_at", order.closed_at),
        ("$.promised_at", order.promised_at),
    ):
        if ts is not None and not window.holds(ts):
            raise implausible_time(ts, window, where)
    for kind, created in (
        ("payments", [payment.created_at for payment in order.payments]),
        ("refunds", [refund.created_at for refund in order.refunds]),
    ):
        for index, ts in enumerate(created):
            if ts is not None and not window.holds(ts):
                raise implausible_time(ts, window, f"$.{kind}[{index}].created_at")


_ZERO = Decimal(0)
_ONE = Decimal(1)


class Totals(msgspec.Struct, kw_only=True):
    """What a check adds up to, in the order the back office reads it.

    ``net_sales = gross_sales - discounts - comps``; ``total = net_sales + additive tax +
    service_charges``; ``tips`` are on top of ``total``; voided lines count in ``voids`` only.
    """

    gross_sales: Money
    discounts: Money
    comps: Money
    net_sales: Money
    tax: Money
    service_charges: Money
    total: Money
    tips: Money
    paid: Money
    refunded: Money
    voids: Money
    gift_cards_sold: Money


def modifier_total(modifier: Modifier, currency: str = "USD") -> Money:
    """One unit of a modifier, its own nested modifiers included."""
    nested = total((modifier_total(m, currency) for m in modifier.modifiers), currency)
    return (modifier.unit_price + nested).times(modifier.quantity)


def line_gross(line: Line, currency: str = "USD") -> Money:
    """Price of the line before discounts and comps: (unit price + modifiers) × quantity."""
    per_unit = line.unit_price + total((modifier_total(m, currency) for m in line.modifiers), currency)
    return per_unit.times(line.quantity)


def line_gross_minor(line: Line, currency: str = "USD") -> int:
    """``line_gross(line, currency).amount`` in plain integers, for the close's loops: the same
    half-even rounding of each fractional quantity, with the common whole quantities kept exact
    (no :class:`Money` made along the way; ``currency`` is the caller's, for symmetry)."""
    unit = line.unit_price.amount
    if line.modifiers:
        for modifier in line.modifiers:
            unit += _modifier_minor(modifier)
    quantity = line.quantity
    return unit if quantity == _ONE else _times_minor(unit, quantity)


def _modifier_minor(modifier: Modifier) -> int:
    unit = modifier.unit_price.amount
    if modifier.modifiers:
        for child in modifier.modifiers:
            unit += _modifier_minor(child)
    quantity = modifier.quantity
    return unit if quantity == _ONE else _times_minor(unit, quantity)


def _times_minor(amount: int, quantity: Decimal) -> int:
    """``Money.times`` on minor units: half-even to the unit, exact when the quantity is whole."""
    if quantity == _ONE:
        return amount
    if quantity == quantity.to_integral_value():
        return amount * int(quantity)
    return int((Decimal(amount) * quantity).quantize(_ONE, rounding=ROUND_HALF_EVEN))


def order_totals(order: Order) -> Totals:
    """Add the check up. Pure: the same order always gives the same totals."""
    cur = order.currency
    sold = [line for line in order.lines if not line.voided and line.kind is LineKind.ITEM]
    gross = total((line_gross(line, cur) for line in sold), cur)
    line_discounts = total((d.amount for line in sold for d in line.discounts), cur)
    discounts = line_discounts + total((d.amount for d in order.discounts), cur)
    comps = total((line.comp.amount for line in sold if line.comp is not None), cur)
    net = gross - discounts - comps
    additive_tax = total((t.amount for t in order.taxes if t.kind is TaxKind.ADDITIVE), cur)
    all_tax = total((t.amount for t in order.taxes), cur)
    charges = total((s.amount for s in order.service_charges), cur)
    gift_cards = total(
        (
            line_gross(line, cur)
            for line in order.lines
            if not line.voided and line.kind is LineKind.GIFT_CARD
        ),
        cur,
    )
    return Totals(
        gross_sales=gross,
        discounts=discounts,
        comps=comps,
        net_sales=net,
        tax=all_tax,
        service_charges=charges,
        total=net + additive_tax + charges + gift_cards,
        tips=total((p.tip for p in order.payments), cur),
        paid=total((p.amount for p in order.payments), cur),
        refunded=total((r.amount for r in order.refunds), cur),
        voids=total((line_gross(line, cur) for line in order.lines if line.voided), cur),
        gift_cards_sold=gift_cards,
    )


def empty_totals(currency: str = "USD") -> Totals:
    z = zero(currency)
    return Totals(
        gross_sales=z,
        discounts=z,
        comps=z,
        net_sales=z,
        tax=z,
        service_charges=z,
        total=z,
        tips=z,
        paid=z,
        refunded=z,
        voids=z,
        gift_cards_sold=z,
    )
