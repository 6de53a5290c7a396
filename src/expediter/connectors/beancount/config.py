"""Beancount settings: where accounts open and which root an account belongs under."""

from __future__ import annotations

from datetime import date

import msgspec


class BeancountSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    open_date: date = date(2000, 1, 1)
    """Date of the ``open`` directives (before any entry exported)."""
    account_roots: dict[str, str] = {}
    """Account as mapped → root (``Assets``, ``Liabilities``, ``Equity``, ``Income``, ``Expenses``),
    overriding the root inferred from the account's role in the journal."""
    payee: str = "Expediter"
