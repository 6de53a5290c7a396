"""Polling a source system: what changed in a window, stored when the inbox lacks it.

The polling fallback asks every few minutes about the last few minutes; the **nightly poll** of a
reconciliation asks about a whole business day. Either way every message the poll found is linked
to the poll's transfer in the ledger: ``polled`` when the poll stored it (the webhooks had not
brought it), ``confirmed`` when the inbox already held it. That is what tells "missed by the
webhooks" from "arrived only by webhook".
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from expediter.catalog.schema import Level
from expediter.connectors.base import ConnectorContext
from expediter.engine.canonical import canonical_facts
from expediter.engine.hub import Hub
from expediter.errors import ExpediterError
from expediter.ledger.lineage import Link, LinkRole
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model import clock

POLL_SUFFIX = "#poll"
ORDER_VERSIONS = "order_versions"
"""The service connectors ask for the newest version the hub holds, to skip what it has: the
nightly poll leaves it out, so what the hub holds already comes back too (and is ``confirmed``)."""
NIGHTLY_POLL = "nightly poll"
"""The ``endpoint`` of a poll over a whole business day (a reconciliation's)."""


class PollResult(msgspec.Struct, kw_only=True):
    new: int = 0
    found: int = 0
    transfer_id: int = 0


def poll_flow_id(system_id: str) -> str:
    return f"{system_id}{POLL_SUFFIX}"


async def poll_window(
    hub: Hub,
    system_id: str,
    start: datetime,
    end: datetime,
    *,
    location_id: str | None = None,
    business_date: date | None = None,
) -> int:
    """The polling fallback: store what ``system_id`` changed in [start, end); how many were new."""
    result = await poll(hub, system_id, start, end, location_id=location_id, business_date=business_date)
    return result.new


async def poll(
    hub: Hub,
    system_id: str,
    start: datetime,
    end: datetime,
    *,
    location_id: str | None = None,
    business_date: date | None = None,
) -> PollResult:
    """Ask the system's connector what changed in [start, end); store and link what it found. A
    poll for one ``business_date`` is a nightly poll (its transfer names the location and date)."""
    system = hub.catalog.system(system_id)
    connector = hub.connector(system.connector) if system else None
    if system is None or connector is None or connector.poll is None:
        raise ValueError(f"system {system_id!r} has no polling fallback")
    started = clock.now()
    links: list[Link] = []
    result = PollResult()
    outcome, error = TransferOutcome.SUCCEEDED, ""
    context = hub.context(system_id)
    if business_date is not None:  # the nightly poll wants the whole listing, stored or not
        context = ConnectorContext(
            catalog=context.catalog,
            system=context.system,
            services={k: v for k, v in context.services.items() if k != ORDER_VERSIONS},
        )
    try:
        for message in await connector.poll(context, start, end):
            if location_id is not None and message.location_id not in (None, location_id):
                continue
            ref, day = canonical_facts(message, hub.catalog)
            accepted = await hub.inbox.accept(message, ref=ref, business_date=day, processed=True)
            role = LinkRole.CONFIRMED if accepted.duplicate else LinkRole.POLLED
            links.append(Link(accepted.message_id, role))
            result.new += not accepted.duplicate
            result.found += 1
    except ExpediterError as exc:
        outcome, error = TransferOutcome.FAILED, str(exc)
        raise
    finally:
        transfer = Transfer(
            flow_id=poll_flow_id(system_id),
            direction=Direction.IN,
            level=Level.REALTIME,
            transport="http",
            endpoint=NIGHTLY_POLL if business_date is not None else "polling fallback",
            started_at=started,
            finished_at=clock.now(),
            outcome=outcome,
            records=result.new,
            error=error,
            location_id=location_id,
            business_date=business_date,
        )
        result.transfer_id = await hub.ledger.record(transfer, links)
    return result
