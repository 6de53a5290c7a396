"""A restaurant's transfers (its ledger) go up to its group, so the group's ledger shows each
location's deliveries, files and runs.

At the edge, each transfer the ledger records has its publication written in the ``outbox`` in
the same transaction (:class:`TransfersUp`, the ledger's watcher), as a kitchen station's event
is: the relay publishes it in order to the restaurant's ``MESSAGES`` stream under
``expediter.edge.<location>.ledger.<location>``, with the id ``transfer:<hub identity>:<transfer
id>``; the group's copy sources it with the rest. At the group, the intake
(:mod:`expediter.edge.intake`) records it in the group's ledger with the location
(:func:`record_edge_transfer`) and the id in ``edge_transfers`` in the same transaction: a
redelivery records nothing new. The edge's message and delivery ids mean nothing at the group and
are left out.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from expediter.engine.bus.outbox import Outbox
from expediter.engine.bus.settings import BusSettings
from expediter.engine.router import read_hub_identity
from expediter.ledger.ledger import Ledger
from expediter.ledger.transfers import Transfer
from expediter.storage.base import Tx, now_iso

LEDGER_KIND = "ledger"
"""The subject's kind token of an edge's transfers (no message kind: they are not messages)."""


class TransfersUp:
    """The edge ledger's watcher: each transfer recorded is published to the group."""

    def __init__(self, outbox: Outbox, settings: BusSettings, location: str) -> None:
        self.outbox = outbox
        self.subject = settings.message_subject(LEDGER_KIND, location)
        self.stream = settings.messages_stream
        self._identity: str | None = None

    def recording(self, tx: Tx, transfer_id: int, transfer: Transfer) -> None:
        if self._identity is None:
            self._identity = read_hub_identity(tx)
        payload = msgspec.json.encode(msgspec.structs.replace(transfer, id=transfer_id))
        msg_id = f"transfer:{self._identity}:{transfer_id}"
        self.outbox.record_event(tx, msg_id, self.stream, self.subject, payload, now_iso())

    def recorded(self) -> None:
        self.outbox.recorded()


def record_edge_transfer(ledger: Ledger, msg_id: str, location: str, payload: bytes) -> Callable[[Tx], bool]:
    """At the group: the transfer ``location``'s edge published as ``msg_id``, recorded once
    (``False``: recorded already). The payload is checked before (:func:`decode_transfer`)."""
    transfer = decode_transfer(payload, location)

    def write(tx: Tx) -> bool:
        if tx.one("SELECT transfer_id FROM edge_transfers WHERE msg_id = ?", (msg_id,)) is not None:
            return False
        transfer_id = ledger.insert(tx, transfer)
        tx.execute(
            "INSERT INTO edge_transfers (msg_id, location_id, transfer_id) VALUES (?, ?, ?)",
            (msg_id, location, transfer_id),
        )
        return True

    return write


def decode_transfer(payload: bytes, location: str) -> Transfer:
    """The edge's transfer as the group records it (raises ``msgspec.DecodeError``)."""
    transfer = msgspec.json.decode(payload, type=Transfer)
    return msgspec.structs.replace(transfer, id=None, delivery_id=None, message_id=None, location_id=location)
