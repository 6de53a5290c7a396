"""Money as integer minor units with a currency; never a float."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from expediter.model.bounds import Amount


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


class Money(msgspec.Struct, frozen=True, gc=False):
    """An amount in the currency's minor unit (cents for USD): ``Money(1250, "USD")`` is $12.50.
    Decoded amounts lie within ±:data:`~expediter.model.bounds.MAX_AMOUNT`."""

    amount: Amount
    currency: str = "USD"

    def _currency_with(self, other: Money) -> str:
        """The currency of ``self`` combined with ``other``.

        A zero amount is currency-neutral: model defaults such as ``Payment.tip`` are ``Money(0)``
        (USD), and a EUR order without a tip must still total. Two non-zero amounts in different
        currencies are an error.
        """
        if self.currency == other.currency or other.amount == 0:
            return self.currency
        if self.amount == 0:
            return other.currency
        raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + other.amount, self._currency_with(other))

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - other.amount, self._currency_with(other))

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        """Multiply by a quantity, rounding half to even to the minor unit."""
        exact = Decimal(self.amount) * Decimal(factor)
        return Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)), self.currency)

    def is_zero(self) -> bool:
        return self.amount == 0

    def format(self) -> str:
        """Human form for screens and logs, e.g. ``12.50 USD``."""
        sign = "-" if self.amount < 0 else ""
        whole, cents = divmod(abs(self.amount), 100)
        return f"{sign}{whole}.{cents:02d} {self.currency}"


def zero(currency: str = "USD") -> Money:
    return Money(0, currency)


def total(amounts: Iterable[Money], currency: str = "USD") -> Money:
    """Sum amounts; an empty iterable is zero in ``currency``."""
    result = zero(currency)
    for amount in amounts:
        result = result + amount
    return result
