"""The day's sales as one balanced journal entry per location and business date.

Why the entry looks the way it does (the bookkeeper's rules, not ours):

- revenue is credited by sales category at gross; discounts and comps are debited as contra-revenue,
  so the books show what was given away, not just what was collected;
- tax a marketplace collects and remits itself (``marketplace_facilitator``) is never our payable:
  the marketplace's payout excludes it, so its clearing account is debited net of that tax;
- service charges and auto-gratuity are the restaurant's revenue (wages, not tips); card tips are
  owed to staff (tips payable);
- a gift card sold is a liability; redeeming one draws the liability down;
- voided lines never reach revenue: they show in :class:`JournalStatistics` and the memo only;
- cash is reconciled to the counted drawer, the difference going to cash over/short;
- a refund is booked on the business date it happened on (its ``created_at`` on the location's
  clock, :mod:`~expediter.operations.accounting.dating`), not on its sale's: the sale's day was
  posted already, and the refund's day is the one whose drawer paid it out. A refund without
  ``created_at`` stays on its order's date. This needs the ``location``; without one, every order
  given is taken as the day's and books all its refunds (the caller chose the day's orders).

Every amount is summed in integer minor units, so an entry that does not balance is a bug, never
rounding: :func:`balanced` refuses it. A check whose payments do not match what it charged (an
open check, an overpayment) is balanced through ``accounts.unpaid_checks`` rather than silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from expediter.catalog.schema import AccountType, Mappings
from expediter.errors import ExpediterError, RejectedInput
from expediter.model.journal import AccountRole, JournalEntry, JournalLine, JournalStatistics, Side
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import (
    Line,
    LineKind,
    Order,
    OrderState,
    Payment,
    Refund,
    TaxKind,
    TenderType,
    line_gross_minor,
    order_totals,
)
from expediter.operations.accounting.dating import refunds_on, sale_date
from expediter.operations.accounting.mapping import AccountResolver, FixedAccount, MappingTable

# Members read once: in Python 3.11 each ``Enum.MEMBER`` costs about 0.1 µs (measured), and the
# close reads several for every line of every check of a group's night.
_DEBIT = Side.DEBIT
_CREDIT = Side.CREDIT
_CASH = TenderType.CASH
_CARD = TenderType.CARD
_MARKETPLACE = TenderType.MARKETPLACE
_CANCELED = OrderState.CANCELED
_GIFT_CARD_LINE = LineKind.GIFT_CARD
_INCLUSIVE = TaxKind.INCLUSIVE
_LIABILITY = AccountRole.LIABILITY
_REVENUE = AccountRole.REVENUE
_SALES_TAX = FixedAccount.SALES_TAX
_TIPS_PAYABLE = FixedAccount.TIPS_PAYABLE


class DrawerCount(msgspec.Struct, frozen=True, kw_only=True):
    """The cash a manager counted in the drawer(s) at close (``expediter drawer count``)."""

    location_id: str
    business_date: date
    counted_cash: Money
    counted_by: str = ""
    counted_at: datetime | None = None


class JournalSettings(msgspec.Struct, frozen=True, kw_only=True):
    by_dining_option: bool = False
    """Split revenue lines by dining option (``dimension``)."""


class UnbalancedEntry(ExpediterError):
    """Debits and credits differ: a bug in the builder, never something to post."""


def latest_versions(orders: Iterable[Order]) -> list[Order]:
    """One order per check: the highest ``version`` of each id (a check is re-sent as it changes).

    Counting every version would book an edited check twice; the last one received wins a tie.
    """
    latest: dict[str, Order] = {}
    for order in orders:
        seen = latest.get(order.id)
        if seen is None or order.version >= seen.version:
            latest[order.id] = order
    return list(latest.values())


def payable_tax(order: Order) -> int:
    """The sales tax of the check that is the restaurant's to remit: all of it but what a
    marketplace collected and remits itself (as the day's ``sales tax`` line books it)."""
    own = sum(t.amount.amount for t in order.taxes if not t.marketplace_facilitator)
    facilitator = sum(t.amount.amount for t in order.taxes if t.marketplace_facilitator)
    marketplace_paid = sum(p.amount.amount for p in order.payments if p.tender is _MARKETPLACE)
    return own + facilitator - max(0, min(facilitator, marketplace_paid))


def refunded_tax(order: Order) -> dict[str, int]:
    """The sales tax each refund of the check gives back, by refund id: the check's payable tax in
    proportion to the part of the check refunded, counted cumulatively in the order the refunds
    were made, so refunding the whole check gives back exactly the tax collected, never more."""
    tax = payable_tax(order)
    charged = order_totals(order).total.amount
    if tax <= 0 or charged <= 0:
        return {}
    shares: dict[str, int] = {}
    refunded = given = 0
    for refund in order.refunds:
        refunded += refund.amount.amount
        due = min(tax, int((Decimal(refunded) * tax / charged).quantize(_UNIT, rounding=ROUND_HALF_EVEN)))
        shares[refund.id] = max(0, due - given)
        given += shares[refund.id]
    return shares


def document_number(location_id: str, business_date: date) -> str:
    """Stable per location and day, so a re-post is recognised as the same document."""
    return f"DS-{location_id}-{business_date:%Y%m%d}"


def balanced(entry: JournalEntry) -> JournalEntry:
    """Return ``entry`` if its debits equal its credits to the cent; raise otherwise."""
    debits, credits = entry.total_debits().amount, entry.total_credits().amount
    if debits != credits:
        raise UnbalancedEntry(
            f"{entry.document_number}: debits {debits} != credits {credits} (minor units); not posted"
        )
    return entry


_Key = tuple[str, str, str, Side, AccountRole]
_UNIT = Decimal(1)


def _allocate(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` in proportion to ``weights`` in whole minor units (largest remainder)."""
    if amount < 0:
        return [-share for share in _allocate(-amount, weights)]
    weights = [max(w, 0) for w in weights]
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    shares = [amount * w // whole for w in weights]
    rest = amount - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: -(amount * weights[i] % whole))
    for i in by_remainder[:rest]:
        shares[i] += 1
    return shares


class _Builder:
    """Accumulates signed minor units per (account, memo, dimension, side) over one day."""

    def __init__(
        self,
        mappings: Mappings,
        location_id: str,
        business_date: date,
        settings: JournalSettings,
        location: Location | None = None,
    ) -> None:
        self.accounts = AccountResolver(mappings)
        self.location_id = location_id
        self.location = location
        self.business_date = business_date
        self.settings = settings
        self.sums: dict[_Key, int] = {}
        self.stats = JournalStatistics()
        self.currency: str | None = None
        self._order_balance = 0
        self._revenue_keys: dict[tuple[str, str], _Key] = {}
        self._tenders: dict[tuple[TenderType, str | None, str | None], tuple[str, str, AccountRole]] = {}

    def post(self, key: _Key, amount: int) -> None:
        if amount:
            self.sums[key] = self.sums.get(key, 0) + amount
            self._order_balance += amount if key[3] is _DEBIT else -amount

    def add_order(self, order: Order) -> None:
        """Book the order's sale if it is the day's, and its refunds dated on the day."""
        self._check_order(order)
        if self.location is not None and sale_date(order, self.location) != self.business_date:
            self._add_later_refunds(order)
            return
        if order.state is _CANCELED:
            self.stats.canceled_orders += 1
            return
        self.stats.orders += 1
        self._order_balance = 0
        revenue = self._lines(order)
        self._order_discounts(order)
        facilitator = self._taxes(order, revenue)
        self._service_charges(order)
        self._payments(order, facilitator)
        if order.refunds:
            self._refunds(order, refunds_on(order, self.location, self.business_date))
        self._settle_difference()

    def _add_later_refunds(self, order: Order) -> None:
        """An order sold on an earlier day (or another one): only its refunds dated today count.
        A refund books both its sides, so the order's balance is untouched."""
        refunds = refunds_on(order, self.location, self.business_date)
        if order.state is _CANCELED or not refunds:
            return
        self.stats.earlier_sales_refunded += 1
        self._refunds(order, refunds)

    def _check_order(self, order: Order) -> None:
        if self.currency is None:
            self.currency = order.currency
        if order.currency != self.currency or order.location_id != self.location_id:
            raise RejectedInput(
                f"order {order.id} is {order.location_id}/{order.currency}, the day is "
                f"{self.location_id}/{self.currency}",
                where=f"order {order.id}",
                fix="close each location and currency separately",
            )

    def _lines(self, order: Order) -> dict[_Key, int]:
        """Credit revenue by category; return the revenue keys posted and their gross amounts."""
        revenue: dict[_Key, int] = {}
        dimension = order.dining_option.value if self.settings.by_dining_option else ""
        revenue_keys = self._revenue_keys
        for line in order.lines:
            gross = line_gross_minor(line)
            if line.voided:
                self.stats.voided_lines += 1
                self.stats.voided_amount += gross
                continue
            if line.kind is _GIFT_CARD_LINE:
                account = self.accounts.fixed(FixedAccount.GIFT_CARDS, used_for="gift cards sold")
                self.post((account, "gift cards sold", "", _CREDIT, _LIABILITY), gross)
                continue
            key = revenue_keys.get((line.category, dimension)) or self._revenue_key(line.category, dimension)
            revenue[key] = revenue.get(key, 0) + gross
            if line.discounts or line.comp is not None:
                self._line_reductions(line)
        for key, gross in revenue.items():
            self.post(key, gross)
        return revenue

    def _revenue_key(self, category: str, dimension: str) -> _Key:
        key = self._revenue_keys.get((category, dimension))
        if key is None:
            account = self.accounts.lookup(MappingTable.CATEGORY, category, used_for="sales")
            key = (account, f"sales: {category}", dimension, _CREDIT, _REVENUE)
            self._revenue_keys[(category, dimension)] = key
        return key

    def _line_reductions(self, line: Line) -> None:
        for discount in line.discounts:
            self._discount(discount.reason or discount.name, discount.amount.amount)
        if line.comp is not None:
            account = self.accounts.comp(line.comp.reason)
            key = (account, f"comp: {line.comp.reason}", "", _DEBIT, AccountRole.CONTRA_REVENUE)
            self.post(key, line.comp.amount.amount)

    def _discount(self, reason: str, amount: int) -> None:
        account = self.accounts.lookup(MappingTable.DISCOUNT, reason, used_for="discounts")
        self.post((account, f"discount: {reason}", "", _DEBIT, AccountRole.CONTRA_REVENUE), amount)

    def _order_discounts(self, order: Order) -> None:
        for discount in order.discounts:
            self._discount(discount.reason or discount.name, discount.amount.amount)

    def _taxes(self, order: Order, revenue: dict[_Key, int]) -> int:
        """Credit tax payable; take inclusive tax out of revenue; return marketplace-remitted tax."""
        payable = inclusive = facilitator = 0
        for tax in order.taxes:
            if tax.kind is _INCLUSIVE:
                inclusive += tax.amount.amount
            if tax.marketplace_facilitator:
                facilitator += tax.amount.amount
            else:
                payable += tax.amount.amount
        if inclusive:
            keys = list(revenue)
            for key, share in zip(keys, _allocate(inclusive, [revenue[k] for k in keys]), strict=True):
                self.post(key, -share)
        excluded = 0  # without marketplace-remitted tax (most checks) nothing is excluded
        if facilitator > 0:
            paid = sum(p.amount.amount for p in order.payments if p.tender is _MARKETPLACE)
            excluded = max(0, min(facilitator, paid))
            self.stats.facilitator_tax_excluded += excluded
        payable += facilitator - excluded
        if payable:
            account = self.accounts.fixed(_SALES_TAX, used_for="sales tax")
            self.post((account, "sales tax", "", _CREDIT, _LIABILITY), payable)
        return excluded

    def _service_charges(self, order: Order) -> None:
        for charge in order.service_charges:
            if charge.auto_gratuity:
                account, kind = self.accounts.auto_gratuity()
                role = _LIABILITY if kind is AccountType.LIABILITY else _REVENUE
                self.post((account, "auto-gratuity", "", _CREDIT, role), charge.amount.amount)
                continue
            account = self.accounts.fixed(FixedAccount.SERVICE_CHARGES, used_for="service charges")
            self.post((account, "service charges", "", _CREDIT, _REVENUE), charge.amount.amount)

    def _payments(self, order: Order, facilitator: int) -> None:
        for payment in order.payments:
            amount = payment.amount.amount
            if payment.tender is _MARKETPLACE and facilitator:
                taken = min(facilitator, amount)
                facilitator -= taken
                amount -= taken
            account, memo, role = self._tender(payment)
            self.post((account, memo, "", _DEBIT, role), amount + payment.tip.amount)
            if payment.tender is _CASH:
                self.stats.expected_cash += amount + payment.tip.amount
            if payment.tip.amount:
                tips = self.accounts.fixed(_TIPS_PAYABLE, used_for="tips")
                tip_memo = "card tips" if payment.tender is _CARD else "tips"
                self.post((tips, tip_memo, "", _CREDIT, _LIABILITY), payment.tip.amount)

    def _tender(self, payment: Payment) -> tuple[str, str, AccountRole]:
        """Account, memo and role of a tender (cached: a day has a handful of distinct tenders)."""
        cache_key = (payment.tender, payment.card_brand, payment.marketplace)
        found = self._tenders.get(cache_key)
        if found is None:
            found = self._tenders[cache_key] = self._describe_tender(payment)
        return found

    def _describe_tender(self, payment: Payment) -> tuple[str, str, AccountRole]:
        account = self.accounts.tender(payment)
        if payment.tender is TenderType.GIFT_CARD:
            return account, "gift cards redeemed", _LIABILITY
        if payment.tender is _CARD:
            return account, f"card: {(payment.card_brand or 'card').lower()}", AccountRole.CLEARING
        if payment.tender is _MARKETPLACE:
            return account, f"marketplace: {(payment.marketplace or '').lower()}", AccountRole.CLEARING
        return account, payment.tender.value, AccountRole.CLEARING

    def _refunds(self, order: Order, booked: list[Refund]) -> None:
        """Debit refunds (contra-revenue) and Sales Tax Payable for the tax refunded, credit the
        tender refunded (the order's first tender when the refund names none); a cash refund
        leaves the drawer."""
        if not booked:
            return  # most checks: no need to work out the tax their refunds would give back
        by_id = {p.id: p for p in order.payments}
        taxes = refunded_tax(order)
        for refund in booked:
            paid_with = by_id.get(refund.payment_id or "") or (order.payments[0] if order.payments else None)
            payment = paid_with or Payment(id="", tender=_CASH, amount=refund.amount)
            account, memo, role = self._tender(payment)
            refunds = self.accounts.fixed(FixedAccount.REFUNDS, used_for="refunds")
            amount = refund.amount.amount
            tax = taxes.get(refund.id, 0)
            if tax:
                sales_tax = self.accounts.fixed(_SALES_TAX, used_for="sales tax refunded")
                self.post((sales_tax, "sales tax refunded", "", _DEBIT, _LIABILITY), tax)
            self.post((refunds, "refunds", "", _DEBIT, AccountRole.CONTRA_REVENUE), amount - tax)
            self.post((account, f"refund: {memo}", "", _CREDIT, role), amount)
            if payment.tender is _CASH:
                self.stats.expected_cash -= amount
            self.stats.refunds += 1
            self.stats.refund_amount += amount
            self.stats.refunded_tax += tax

    def _settle_difference(self) -> None:
        """A check paid more or less than it charged: book the difference, never drop it."""
        difference = self._order_balance
        if not difference:
            return
        account = self.accounts.fixed(FixedAccount.UNPAID_CHECKS, used_for="checks not paid in full")
        if difference > 0:
            self.post((account, "overpaid checks", "", _CREDIT, AccountRole.RECEIVABLE), difference)
        else:
            self.post((account, "unpaid checks", "", _DEBIT, AccountRole.RECEIVABLE), -difference)

    def add_drawer(self, drawer: DrawerCount) -> None:
        """Adjust cash to what was counted; the difference is cash over (credit) or short (debit)."""
        if (drawer.location_id, drawer.business_date) != (self.location_id, self.business_date):
            raise RejectedInput(
                f"drawer count is for {drawer.location_id} {drawer.business_date}",
                where="drawer count",
                fix=f"count the drawer of {self.location_id} for {self.business_date}",
            )
        self.stats.counted_cash = drawer.counted_cash.amount
        difference = drawer.counted_cash.amount - self.stats.expected_cash
        cash = self.accounts.lookup(MappingTable.TENDER, _CASH.value, used_for="cash drawer")
        over_short = self.accounts.fixed(FixedAccount.CASH_OVER_SHORT, used_for="cash over/short")
        memo = "cash over" if difference > 0 else "cash short"
        self.post((cash, memo, "", _DEBIT, AccountRole.CLEARING), difference)
        self.post((over_short, memo, "", _CREDIT, AccountRole.OVER_SHORT), difference)

    def entry(self, currency: str) -> JournalEntry:
        lines = [_line(key, amount, currency) for key, amount in self.sums.items() if amount]
        lines.sort(key=lambda ln: (ln.debit.is_zero(), ln.account, ln.memo, ln.dimension))
        stats = self.stats
        voids = f"; {stats.voided_lines} voided lines ({Money(stats.voided_amount, currency).format()})"
        return JournalEntry(
            location_id=self.location_id,
            business_date=self.business_date,
            document_number=document_number(self.location_id, self.business_date),
            currency=currency,
            lines=lines,
            memo=f"Daily sales {self.location_id} {self.business_date}: {stats.orders} orders{voids}",
            statistics=stats,
        )


def _line(key: _Key, amount: int, currency: str) -> JournalLine:
    """A summed key as a line; a negative sum flips to the other side."""
    account, memo, dimension, side, role = key
    if amount < 0:
        side, amount = Side(1 - side), -amount
    debit = Money(amount if side is _DEBIT else 0, currency)
    credit = Money(amount if side is _CREDIT else 0, currency)
    return JournalLine(account=account, debit=debit, credit=credit, memo=memo, dimension=dimension, role=role)


def build_journal(
    orders: Iterable[Order],
    mappings: Mappings,
    *,
    location_id: str,
    business_date: date,
    drawer: DrawerCount | None = None,
    settings: JournalSettings | None = None,
    currency: str = "USD",
    location: Location | None = None,
) -> JournalEntry:
    """The balanced entry for one location's business date.

    ``orders`` may be a generator; several versions of one check count once (the latest). With
    ``location``, an order sold on another business date books only its refunds dated on this one
    (pass the earlier days' refunded orders along with the day's); without it, every order given
    books its sale and all its refunds. Raises
    :class:`~expediter.operations.accounting.mapping.UnmappedAccounts` naming every missing key
    (nothing is half-built), :class:`UnbalancedEntry` if the sums disagree, and ``RejectedInput``
    for an order of another location or currency.
    """
    if location is not None and location.id != location_id:
        raise RejectedInput(
            f"location {location.id} given for the day of {location_id}",
            where="location",
            fix="pass the location whose day is closed",
        )
    builder = _Builder(mappings, location_id, business_date, settings or JournalSettings(), location)
    for order in latest_versions(orders):
        builder.add_order(order)
    if drawer is not None:
        builder.add_drawer(drawer)
    number = document_number(location_id, business_date)
    builder.accounts.raise_if_missing(number)
    return balanced(builder.entry(builder.currency or currency))
