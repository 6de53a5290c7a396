"""Polling a source system: what changed in a window, stored when the inbox lacks it.

The polling fallback asks every few minutes about the last few minutes; the **nightly poll** of a
reconciliation asks about a whole business day. Either way every message the poll found is linked
to the poll's transfer in the ledger: ``polled`` when the poll stored it (the webhooks had not
brought it), ``confirmed`` when the inbox already held it. That is what tells "missed by the
webhooks" from "arrived only by webhook".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import msgspec
import structlog

from expediter.catalog.schema import Level
from expediter.engine.canonical import canonical_facts, is_canonical
from expediter.engine.hub import Hub
from expediter.engine.inbox import Accepted
from expediter.errors import ExpediterError, RejectedInput
from expediter.ledger.lineage import Link, LinkRole
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model import clock
from expediter.monitor.drift import Arrival
from expediter.plugin.base import ConnectorContext, IncomingMessage

log = structlog.get_logger(__name__)

POLL_SUFFIX = "#poll"
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
    poll for one ``business_date`` is a nightly poll (its transfer names the location and date).
    Canonical messages are stored as processed; anything else (a record the connector could not
    map, as it came) goes to the system's processing, where a refusal becomes a dead letter with
    its reason. A message the inbox refuses (a card number in it) is left out, and the poll goes
    on with the others; the poll's transfer says what was refused."""
    system = hub.catalog.system(system_id)
    connector = hub.connector(system.connector) if system else None
    if system is None or connector is None or connector.poll is None:
        raise ValueError(f"system {system_id!r} has no polling fallback")
    started = clock.now()
    links: list[Link] = []
    result = PollResult()
    outcome, refused = TransferOutcome.SUCCEEDED, list[str]()
    context = hub.context(system_id)
    if business_date is not None:  # the nightly poll wants the whole listing, stored or not:
        # without the order versions, what the hub holds already comes back too (``confirmed``)
        services = replace(context.services, order_versions=None, extra=dict(context.services.extra))
        context = ConnectorContext(catalog=context.catalog, system=context.system, services=services)
    try:
        for message in await connector.poll(context, start, end):
            if location_id is not None and message.location_id not in (None, location_id):
                continue
            try:
                accepted = await _store(hub, message)
            except RejectedInput as exc:
                log.warning("polled message refused", system=system_id, error=str(exc))
                refused.append(f"{message.idempotency_key}: {exc}")
                continue
            role = LinkRole.CONFIRMED if accepted.duplicate else LinkRole.POLLED
            links.append(Link(accepted.message_id, role))
            result.new += not accepted.duplicate
            result.found += 1
    except ExpediterError as exc:
        outcome = TransferOutcome.FAILED
        refused.insert(0, str(exc))
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
            error="; ".join(refused),
            location_id=location_id,
            business_date=business_date,
        )
        result.transfer_id = await hub.ledger.record(transfer, links)
    return result


async def _store(hub: Hub, message: IncomingMessage) -> Accepted:
    ref, day = canonical_facts(message, hub.catalog)
    processed = is_canonical(message.kind)
    return await hub.inbox.accept(
        message, ref=ref, business_date=day, processed=processed, arrival=Arrival.UNCHECKED
    )
