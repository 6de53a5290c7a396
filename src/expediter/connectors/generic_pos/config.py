"""Settings of a system using the generic POS connector."""

from __future__ import annotations

import msgspec


class GenericPosSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: str = ""
    """Where the POS accepts canonical orders (``POST``), e.g. ``https://pos.example/api/orders``.
    Needed only when the POS is a destination."""
    status_url: str = ""
    """Where the POS accepts kitchen status (``POST``, the ``ticket_status`` JSON: ``order_id``,
    ``external_id``, ``status`` = ``ready``...), for flows ``kds → pos`` of ``ticket_status``."""
    token: str = ""
    """Bearer token for the POS, as a secret reference (``env:POS_TOKEN``); empty for none."""
    timeout_seconds: float = 10.0
