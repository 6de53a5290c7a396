"""Lineage: which messages each transfer carried, so an order's journey is a lookup, not a search.

Every transfer that moved a message writes its links in its own transaction (table ``lineage``,
migration ``0017_lineage``):

- a delivery attempt carried its message (``carried``, with the delivery's id);
- a processing step (``<system>#process``) carried the raw message and **produced** the canonical
  ones it derived (``produced``: an order fetched after its webhook);
- a poll **stored** what the inbox lacked (``polled``: the webhook missed it) and **confirmed**
  what it already held (``confirmed``);
- a file (a sales summary, a journal, a payroll file) carried every message it was built from.

A file transfer also keeps the digest of its inputs (table ``transfer_inputs``): the ids of the
message versions it was built from, and the newest message id of the hub when they were read
(``as_of``). A night whose inputs changed after it went out (a late refund, a replayed order) has
another digest today.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from enum import StrEnum

import msgspec

from expediter.storage.base import Row, Tx


class LinkRole(StrEnum):
    CARRIED = "carried"
    """The transfer carried the message (a delivery, a file built from it)."""
    PRODUCED = "produced"
    """A processing step derived the message from the message it carried."""
    POLLED = "polled"
    """A poll found the message and stored it: the webhooks had not brought it."""
    CONFIRMED = "confirmed"
    """A poll found the message already stored (it came by webhook or the API first)."""


class Link(msgspec.Struct, frozen=True):
    message_id: int
    role: LinkRole = LinkRole.CARRIED
    delivery_id: int | None = None


class LinkRow(msgspec.Struct, frozen=True, kw_only=True):
    """A stored link, as read back."""

    message_id: int
    transfer_id: int
    role: LinkRole
    delivery_id: int | None = None


class TransferInputs(msgspec.Struct, frozen=True, kw_only=True):
    """What a file transfer was built from: the digest of its input versions, how many, as of which
    message id."""

    digest: str
    inputs: int
    as_of: int


def inputs_digest(message_ids: Iterable[int]) -> str:
    """``sha256:<hex>`` of the sorted, distinct message ids: the same inputs give the same digest."""
    text = ",".join(str(i) for i in sorted(set(message_ids)))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def inputs_of(message_ids: Iterable[int], as_of: int) -> TransferInputs:
    ids = set(message_ids)
    return TransferInputs(digest=inputs_digest(ids), inputs=len(ids), as_of=as_of)


_LINK = "INSERT INTO lineage (message_id, transfer_id, delivery_id, role) VALUES (?, ?, ?, ?)"
_INPUTS = "INSERT INTO transfer_inputs (transfer_id, digest, inputs, as_of) VALUES (?, ?, ?, ?)"


def insert_links(tx: Tx, transfer_id: int, links: Iterable[Link]) -> None:
    """Write ``links`` for ``transfer_id`` in the caller's transaction (one link per message)."""
    seen: set[int] = set()
    for link in links:
        if link.message_id in seen:
            continue
        seen.add(link.message_id)
        tx.execute(_LINK, (link.message_id, transfer_id, link.delivery_id, str(link.role)))


def insert_inputs(tx: Tx, transfer_id: int, inputs: TransferInputs) -> None:
    tx.execute(_INPUTS, (transfer_id, inputs.digest, inputs.inputs, inputs.as_of))


def links_of_messages(tx: Tx, message_ids: Sequence[int]) -> list[LinkRow]:
    """Every link of these messages (an index lookup per message), oldest transfer first."""
    found: list[LinkRow] = []
    for message_id in dict.fromkeys(message_ids):
        rows = tx.all(
            "SELECT message_id, transfer_id, delivery_id, role FROM lineage WHERE message_id = ?"
            " ORDER BY transfer_id",
            (message_id,),
        )
        found += [_row(row) for row in rows]
    return sorted(found, key=lambda link: (link.transfer_id, link.message_id))


def messages_of_transfer(tx: Tx, transfer_id: int, roles: Sequence[LinkRole] = ()) -> list[int]:
    """The messages a transfer carried (or produced, polled...: ``roles``), by id."""
    rows = tx.all("SELECT message_id, role FROM lineage WHERE transfer_id = ?", (transfer_id,))
    wanted = {str(role) for role in roles}
    return sorted(int(row["message_id"]) for row in rows if not wanted or row["role"] in wanted)


def inputs_of_transfer(tx: Tx, transfer_id: int) -> TransferInputs | None:
    row = tx.one("SELECT digest, inputs, as_of FROM transfer_inputs WHERE transfer_id = ?", (transfer_id,))
    if row is None:
        return None
    return TransferInputs(digest=row["digest"], inputs=int(row["inputs"]), as_of=int(row["as_of"]))


def _row(row: Row) -> LinkRow:
    return LinkRow(
        message_id=int(row["message_id"]),
        transfer_id=int(row["transfer_id"]),
        role=LinkRole(row["role"]),
        delivery_id=row["delivery_id"],
    )
