"""Reconciliation: per location and business date, do the systems agree?

Each check is one small function on model objects (:mod:`.sales`, :mod:`.kitchen`,
:mod:`.webhooks`, :mod:`.labor`, :mod:`.online`, :mod:`.deliveries`) returning a
:class:`~.model.CheckResult`; the engine gathers the facts each needs from the hub
(:mod:`expediter.engine.reconcile`), :mod:`.store` keeps the results and :mod:`.alerts` tells the
flow's owner while a check differs.
"""

from expediter.monitor.reconcile.model import (
    CHECK_TITLES,
    CheckName,
    CheckResult,
    CheckState,
    Difference,
    Unit,
)

__all__ = ["CHECK_TITLES", "CheckName", "CheckResult", "CheckState", "Difference", "Unit"]
