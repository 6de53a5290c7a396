"""Does the destination hold what the ledger says was delivered?

A file flow's transport reads its *inbox* folder; the files it delivered are in its *upload*
folder. To ask the destination, the same transport is built with the upload folder as its inbox,
then the folder is listed once and each delivered file read back and checksummed. A document
posted over an API (``transport = "http"``) is acknowledged by the reference the destination
answered with (the ledger's ``remote_ref``).
"""

from __future__ import annotations

import msgspec

from expediter.catalog.schema import Flow, System
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs
from expediter.errors import ExpediterError
from expediter.ledger.transfers import Transfer, checksum_of
from expediter.monitor.reconcile.deliveries import FileAck
from expediter.plugin.base import TRANSPORT_SETTINGS
from expediter.plugin.transport import Transport


def uploads_as_inbox(system: System) -> System:
    """``system`` with its transport's upload folder read as the inbox (where delivered files are)."""
    nested = TRANSPORT_SETTINGS in system.settings
    settings = dict(system.settings.get(TRANSPORT_SETTINGS, system.settings))
    if settings.get("upload_dir"):
        settings["inbox_dir"] = settings["upload_dir"]
    replaced = {**system.settings, TRANSPORT_SETTINGS: settings} if nested else settings
    return msgspec.structs.replace(system, settings=replaced)


def _ack(transfer: Transfer, flow: Flow, **fields: object) -> FileAck:
    return FileAck(
        flow_id=flow.id,
        file_name=transfer.file_name,
        sent_checksum=transfer.checksum,
        sent_bytes=transfer.bytes,
        **fields,  # type: ignore[arg-type]
    )


async def acknowledgements(hub: Hub, flow: Flow, transfers: list[Transfer]) -> list[FileAck]:
    """What the destination of ``flow`` says about each delivered file in ``transfers``."""
    destination = hub.catalog.system(flow.to)
    if flow.transport == "http":
        return [_ack(t, flow, found=bool(t.remote_ref), remote_ref=t.remote_ref) for t in transfers]
    if destination is None:
        return [
            _ack(t, flow, found=False, error=f"system {flow.to!r} is not in the catalog") for t in transfers
        ]
    try:
        transport = FileJobs(hub).transport_for(flow, uploads_as_inbox(destination))
    except ExpediterError as exc:
        return [_ack(t, flow, found=False, error=str(exc)) for t in transfers]
    try:
        return await _read_back(transport, flow, transfers)
    finally:
        await transport.close()


def exactly(name: str) -> str:
    """A listing pattern that matches ``name`` alone (its ``*``, ``?`` and ``[`` taken literally)."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in name)


async def _read_back(transport: Transport, flow: Flow, transfers: list[Transfer]) -> list[FileAck]:
    """Each delivered file listed by its own name (the folder may hold thousands), read and
    checksummed."""
    acks = []
    for transfer in transfers:
        try:
            listed = [f.name for f in await transport.list_files(exactly(transfer.file_name))]
            if transfer.file_name not in listed:
                acks.append(_ack(transfer, flow, found=False))
                continue
            data = await transport.download(transfer.file_name)
        except ExpediterError as exc:
            acks.append(_ack(transfer, flow, found=False, error=str(exc)))
            continue
        acks.append(_ack(transfer, flow, found=True, found_checksum=checksum_of(data), found_bytes=len(data)))
    return acks
