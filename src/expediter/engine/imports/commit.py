"""Committing an import: its good rows at once, one transfer in the ledger.

Inbox kinds (count sheets, employees, menu items, recipes) store their messages in the same
transaction as the import's state; a price list's rows stay where they were staged; vendor
invoices go to the vendor desk after the commit, one by one (the desk books each invoice number
once, so a commit interrupted there is finished by importing the file again).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from expediter.catalog.schema import Catalog, Level
from expediter.engine.hub import Hub
from expediter.engine.imports.reading import import_context
from expediter.engine.imports.store import (
    ImportRecord,
    ImportRequest,
    ImportState,
    committer,
    get,
    good_groups,
    same_file_committed,
    set_outcome,
)
from expediter.engine.inbox import Arriving
from expediter.engine.menu import MENU_KIND, menu_changed
from expediter.errors import ConfigError, RejectedInput
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.menu import MenuItem
from expediter.operations.imports import ImportKind, Target, kind_for
from expediter.operations.imports.counts import COUNTS_KIND
from expediter.operations.imports.invoices import Invoices
from expediter.plugin.base import IncomingMessage

MANUAL_SOURCE = "manual:"
"""Imported messages come from ``manual:<flow id>``: no flow routes them onward by accident."""


class Committed(msgspec.Struct, kw_only=True):
    record: ImportRecord
    messages: int = 0
    duplicate: bool = False
    message_ids: list[int] = []


def request_of(catalog: Catalog, record: ImportRecord, endpoint: str = "") -> ImportRequest:
    """What an import was read for, from its record (a commit may come in another request)."""
    flow = catalog.flow(record.flow_id)
    location = catalog.location(record.location_id or "")
    if flow is None or location is None or record.business_date is None:
        raise ConfigError(f"import {record.id}: its flow or location is no longer in the catalog")
    return ImportRequest(
        flow=flow,
        location=location,
        business_date=record.business_date,
        file_name=record.file_name,
        endpoint=endpoint,
    )


async def commit(hub: Hub, import_id: int, *, endpoint: str = "") -> Committed:
    """Commit the good rows of a previewed import at once (see the module docstring);
    ``endpoint`` says where the file came from, for the ledger."""
    record = await get(hub.storage, import_id)
    request = request_of(hub.catalog, record, endpoint)
    if record.state is not ImportState.PREVIEWED:
        raise RejectedInput(
            f"import {import_id} is {record.state.value}, not previewed",
            where=f"import {import_id}",
            fix="import the file again to preview it",
        )
    if record.rows_good == 0:
        raise RejectedInput(
            "no row of the file can be imported", where=record.file_name, fix="fix the rows and import again"
        )
    kind = kind_for(record.kind)(import_context(hub.catalog, request))
    started = clock.now()
    if kind.target is Target.INBOX:
        done = await _commit_to_inbox(hub, record, kind)
    else:
        done = await _commit_in_place(hub, record, kind)
    await _record_transfer(hub, request, done, started)
    return done


async def _commit_to_inbox(hub: Hub, record: ImportRecord, kind: ImportKind) -> Committed:
    groups = await good_groups(hub.storage, record.id, kind.record_type)
    earlier = await _day_sheet(hub, record) if record.continues and record.kind == COUNTS_KIND else None
    stored = kind.stored(groups, earlier)
    arriving = [
        Arriving(
            message=IncomingMessage(
                source_system=f"{MANUAL_SOURCE}{record.flow_id}",
                kind=item.kind,
                idempotency_key=f"{record.flow_id}:import:{record.checksum}:{item.kind}:{item.ref}",
                payload=item.payload,
                content_type=item.content_type,
                location_id=item.location_id,
            ),
            ref=item.ref,
            business_date=item.business_date,
        )
        for item in stored
    ]
    accepted = await hub.inbox.accept_many(arriving, processed=True, also=committer(record, "", len(stored)))
    if record.kind == MENU_KIND:
        for item in stored:
            menu_changed(hub, item.location_id, [msgspec.json.decode(item.payload, type=MenuItem)])
    duplicate = bool(accepted) and all(a.duplicate for a in accepted)
    if duplicate:
        await set_outcome(hub.storage, record.id, "already imported (the same file)")
    return Committed(
        record=await get(hub.storage, record.id),
        messages=sum(not a.duplicate for a in accepted),
        duplicate=duplicate,
        message_ids=[a.message_id for a in accepted],
    )


async def _commit_in_place(hub: Hub, record: ImportRecord, kind: ImportKind) -> Committed:
    earlier = await same_file_committed(hub.storage, record)
    if earlier is not None:
        outcome = f"already imported (the same file as import {earlier})"
        await hub.storage.write(committer(record, outcome, 0, ImportState.DISCARDED))
        return Committed(record=await get(hub.storage, record.id), duplicate=True)
    await hub.storage.write(committer(record, "", record.rows_good))
    if kind.target is Target.VENDOR_DESK:
        await _to_vendor_desk(hub, record, kind)
    return Committed(record=await get(hub.storage, record.id))


async def _to_vendor_desk(hub: Hub, record: ImportRecord, kind: ImportKind) -> None:
    from expediter.engine.purchasing import desk_of

    flow = hub.catalog.flow(record.flow_id)
    system = hub.catalog.system(flow.from_) if flow else None
    if system is None:
        raise ConfigError(f"flow {record.flow_id}: its `from` system is not in the catalog")
    groups = await good_groups(hub.storage, record.id, kind.record_type)
    desk = desk_of(hub)
    booked = []
    assert isinstance(kind, Invoices)
    for invoice in kind.invoices(groups):
        stored = await desk.process_invoice(system, invoice)
        booked.append(
            f"{invoice.invoice_number} {stored.state.value}{' (again)' if stored.duplicate else ''}"
        )
    await set_outcome(hub.storage, record.id, "invoices: " + ", ".join(booked))


async def _day_sheet(hub: Hub, record: ImportRecord) -> str | None:
    """The text of the newest count sheet of the import's location and date, if any."""
    ref = f"{record.location_id}:{record.business_date.isoformat() if record.business_date else ''}"
    found = await hub.inbox.latest_by_ref(COUNTS_KIND, ref)
    return found.payload.decode("utf-8-sig") if found else None


async def _record_transfer(hub: Hub, request: ImportRequest, done: Committed, started: datetime) -> None:
    record = done.record
    await hub.ledger.record(
        Transfer(
            flow_id=record.flow_id,
            direction=Direction.IN,
            level=Level.MANUAL,
            transport="upload",
            endpoint=request.endpoint,
            file_name=record.file_name,
            remote_ref=f"import {record.id}",
            started_at=started,
            finished_at=clock.now(),
            outcome=TransferOutcome.DUPLICATE if done.duplicate else TransferOutcome.SUCCEEDED,
            records=0 if done.duplicate else record.rows_good,
            bytes=record.bytes,
            checksum=record.checksum,
            error=f"{record.rows_bad} rows quarantined" if record.rows_bad else "",
            location_id=record.location_id,
            business_date=record.business_date,
            message_id=done.message_ids[0] if done.message_ids else None,
        )
    )
