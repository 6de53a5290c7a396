"""Which general-ledger account each part of a day's sales goes to, and what is missing.

The accounts come from ``[mappings]`` in ``expediter.toml``. A category, discount reason or tender
without an account must stop the whole entry (a half-posted day is worse than a late one), so the
resolver never guesses: it records every key it could not find, and the builder raises
:class:`UnmappedAccounts` listing them all at once with the TOML lines to add.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from expediter.catalog.schema import AccountType, Mappings
from expediter.errors import ConfigError
from expediter.model.order import Payment, TenderType


class MappingTable(StrEnum):
    """The ``[mappings.*]`` tables of ``expediter.toml`` the journal reads."""

    CATEGORY = "category_accounts"
    DISCOUNT = "discount_accounts"
    TENDER = "tender_accounts"
    FIXED = "accounts"
    ACCOUNT_TYPES = "account_types"


class FixedAccount(StrEnum):
    """Keys of ``[mappings.accounts]``: accounts that do not depend on a POS name."""

    SALES_TAX = "sales_tax"
    TIPS_PAYABLE = "tips_payable"
    SERVICE_CHARGES = "service_charges"
    AUTO_GRATUITY = "auto_gratuity"
    """Optional: auto-gratuity falls back to ``service_charges`` when this is not mapped."""
    GIFT_CARDS = "gift_cards"
    CASH_OVER_SHORT = "cash_over_short"
    COMPS = "comps"
    REFUNDS = "refunds"
    UNPAID_CHECKS = "unpaid_checks"
    """Only needed when a check's payments do not match what it charged (open or overpaid checks)."""


_EXAMPLES: dict[MappingTable, str] = {
    MappingTable.CATEGORY: "4000 Food Sales",
    MappingTable.DISCOUNT: "4900 Discounts",
    MappingTable.TENDER: "1010 Card Clearing",
    MappingTable.FIXED: "2100 Sales Tax Payable",
    MappingTable.ACCOUNT_TYPES: "liability",
}
_FIXED_EXAMPLES: dict[str, str] = {
    FixedAccount.SALES_TAX: "2100 Sales Tax Payable",
    FixedAccount.TIPS_PAYABLE: "2200 Tips Payable",
    FixedAccount.SERVICE_CHARGES: "4500 Service Charges",
    FixedAccount.GIFT_CARDS: "2300 Gift Card Liability",
    FixedAccount.CASH_OVER_SHORT: "6900 Cash Over/Short",
    FixedAccount.COMPS: "4950 Comps",
    FixedAccount.REFUNDS: "4960 Refunds",
    FixedAccount.UNPAID_CHECKS: "1200 Unpaid Checks",
}


class MissingMapping(msgspec.Struct, frozen=True, kw_only=True):
    """One key the journal needed and the catalog does not have."""

    table: MappingTable
    key: str
    used_for: str = ""

    def toml(self) -> str:
        """The lines to add to ``expediter.toml``, with a placeholder account to replace."""
        example = _FIXED_EXAMPLES.get(self.key, "") if self.table is MappingTable.FIXED else ""
        example = example or _EXAMPLES[self.table]
        return f'[mappings.{self.table.value}]\n"{self.key}" = "{example}"'


class UnmappedAccounts(ConfigError):
    """The day's entry cannot be built: these keys have no account. Nothing was posted."""

    def __init__(self, missing: list[MissingMapping], *, document_number: str = "") -> None:
        self.missing = missing
        self.document_number = document_number
        keys = ", ".join(f"{m.table.value}.{m.key!r}" for m in missing)
        super().__init__(f"journal {document_number} held: no account for {keys}")

    def fix(self) -> str:
        """Every TOML snippet to add, one per missing key, ready to paste."""
        return "\n\n".join(m.toml() for m in self.missing)

    def __str__(self) -> str:
        return f"{self.args[0]}\nadd to expediter.toml (use your own account names):\n{self.fix()}"


def tender_keys(payment: Payment) -> tuple[str, ...]:
    """The ``tender_accounts`` keys a payment may use, most specific first.

    Cards go by brand (``visa``) with ``card`` as the fallback; marketplaces by name
    (``doordash``) with ``marketplace`` as the fallback; everything else by tender type.
    """
    if payment.tender is TenderType.CARD:
        brand = (payment.card_brand or "").strip().lower()
        return (brand, "card") if brand else ("card",)
    if payment.tender is TenderType.MARKETPLACE:
        name = (payment.marketplace or "").strip().lower()
        return (name, "marketplace") if name else ("marketplace",)
    return (payment.tender.value,)


class AccountResolver:
    """Looks accounts up, remembers what is missing, and never invents an account."""

    PLACEHOLDER = "?unmapped"

    def __init__(self, mappings: Mappings) -> None:
        self._tables: dict[MappingTable, dict[str, str]] = {
            MappingTable.CATEGORY: mappings.category_accounts,
            MappingTable.DISCOUNT: mappings.discount_accounts,
            MappingTable.TENDER: mappings.tender_accounts,
            MappingTable.FIXED: mappings.accounts,
        }
        self._types: dict[str, AccountType] = dict(mappings.account_types)
        self._missing: dict[tuple[MappingTable, str], MissingMapping] = {}
        self._cache: dict[tuple[MappingTable, tuple[str, ...]], str] = {}
        self._fixed: dict[FixedAccount, str] = {}

    def lookup(self, table: MappingTable, *keys: str, used_for: str = "") -> str:
        """The account of the first key found in ``table``; a placeholder (and a record) if none."""
        cached = self._cache.get((table, keys))
        if cached is not None:
            return cached
        values = self._tables[table]
        account = next((values[k] for k in keys if values.get(k)), None)
        if account is None:
            self._missing.setdefault(
                (table, keys[0]), MissingMapping(table=table, key=keys[0], used_for=used_for)
            )
            account = self.PLACEHOLDER
        self._cache[(table, keys)] = account
        return account

    def fixed(self, account: FixedAccount, used_for: str = "") -> str:
        found = self._fixed.get(account)  # asked for several times a check: the enum's value is slow
        if found is None:
            found = self._fixed[account] = self.lookup(MappingTable.FIXED, account.value, used_for=used_for)
        return found

    def auto_gratuity(self) -> tuple[str, AccountType]:
        """Auto-gratuity's account and what it is. Its own account, when mapped, must say its type
        (``[mappings.account_types]``): owed to staff (a liability, paid out through payroll) or
        the restaurant's income; a name is never taken for a type. Without its own account it is
        a service charge, income unless the service charges account says otherwise."""
        if self._tables[MappingTable.FIXED].get(FixedAccount.AUTO_GRATUITY.value):
            account = self.fixed(FixedAccount.AUTO_GRATUITY, used_for="auto-gratuity")
            declared = self._types.get(account)
            if declared is None and account != self.PLACEHOLDER:
                self._missing.setdefault(
                    (MappingTable.ACCOUNT_TYPES, account),
                    MissingMapping(
                        table=MappingTable.ACCOUNT_TYPES,
                        key=account,
                        used_for="auto-gratuity: liability if owed to staff, income if the house's",
                    ),
                )
            return account, declared or AccountType.INCOME
        account = self.fixed(FixedAccount.SERVICE_CHARGES, used_for="auto-gratuity")
        return account, self._types.get(account, AccountType.INCOME)

    def account_type(self, account: str) -> AccountType | None:
        return self._types.get(account)

    def comp(self, reason: str) -> str:
        """A comp reason may have its own discount account; otherwise the fixed ``comps`` account."""
        if reason and self._tables[MappingTable.DISCOUNT].get(reason):
            return self.lookup(MappingTable.DISCOUNT, reason)
        return self.fixed(FixedAccount.COMPS, used_for=f"comp {reason!r}")

    def tender(self, payment: Payment) -> str:
        if payment.tender is TenderType.GIFT_CARD:
            return self.fixed(FixedAccount.GIFT_CARDS, used_for="gift card redemptions")
        return self.lookup(MappingTable.TENDER, *tender_keys(payment), used_for="tender clearing")

    @property
    def missing(self) -> list[MissingMapping]:
        return sorted(self._missing.values(), key=lambda m: (m.table.value, m.key))

    def raise_if_missing(self, document_number: str) -> None:
        if self._missing:
            raise UnmappedAccounts(self.missing, document_number=document_number)
