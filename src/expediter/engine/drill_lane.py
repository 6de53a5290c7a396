"""A drill's own delivery: it goes through the flow's real delivery path and never reaches a system.

``expediter drill`` stores one message of kind ``drill`` with one delivery for the drilled flow, in
a lane of its own (location ``#drill``: the flow's real lanes never wait for it). The delivery
worker hands such a delivery to no sink: while the drill breaks the flow it fails for good (a dead
letter, so the flow's dead-letter alert fires); once the drill mends it, it succeeds. Its attempts
are in the ledger under ``<flow>#drill``, so a drill never paints the flow itself as failing.
"""

from __future__ import annotations

import msgspec

from expediter.catalog.schema import Flow
from expediter.engine.inbox import INSERT_MESSAGE
from expediter.engine.router import Route, insert_deliveries, lane_of, message_token, read_hub_identity
from expediter.errors import TerminalError
from expediter.ledger.drills import DrillPhase, drill_phase
from expediter.plugin.base import Receipt
from expediter.storage.base import Storage, Tx, now_iso

DRILL_LOCATION = "#drill"
DRILL_KIND = "drill"
DRILL_SUFFIX = "#drill"
"""The ledger's flow id for a drill's attempts: ``<flow>#drill``."""


class DrillPayload(msgspec.Struct):
    drill: int
    flow: str


def is_drill(location_id: str | None) -> bool:
    return location_id == DRILL_LOCATION


def store_drill_delivery(tx: Tx, flow: Flow, drill_id: int) -> int:
    """The drill's message and its one delivery (to ``flow``'s destination); the delivery's id."""
    now = now_iso()
    payload = msgspec.json.encode(DrillPayload(drill=drill_id, flow=flow.id))
    key = f"drill:{flow.id}:{drill_id}"
    message_id = tx.insert(
        INSERT_MESSAGE,
        (key, flow.from_, DRILL_KIND, None, DRILL_LOCATION, None, now, "application/json", payload),
    )
    assert message_id is not None
    token = message_token(read_hub_identity(tx), message_id, key)
    insert_deliveries(tx, message_id, token, DRILL_LOCATION, (Route(flow.id, flow.to),), now)
    row = tx.one("SELECT id FROM deliveries WHERE message_id = ?", (message_id,))
    assert row is not None
    return int(row["id"])


def drill_lane(flow: Flow) -> str:
    return lane_of(flow.to, DRILL_LOCATION)


def drill_delivery_state(tx: Tx, delivery_id: int) -> str | None:
    row = tx.one("SELECT state FROM deliveries WHERE id = ?", (delivery_id,))
    return str(row["state"]) if row is not None else None


def settle_drill_delivery(tx: Tx, delivery_id: int) -> None:
    """A drill that could not finish leaves no dead letter behind: its delivery counts as done
    (it was never real)."""
    tx.execute(
        "UPDATE deliveries SET state = 'delivered', holds_lane = 0, updated_at = ?"
        " WHERE id = ? AND location_id = ?",
        (now_iso(), delivery_id, DRILL_LOCATION),
    )


async def hand_over_drill(storage: Storage, payload: bytes, destination: str) -> Receipt:
    """What the worker does instead of calling a sink (see the module docstring)."""
    drill = msgspec.json.decode(payload, type=DrillPayload)
    phase = await storage.read(lambda tx: drill_phase(tx, drill.drill))
    if phase is DrillPhase.FIX:
        return Receipt(records=0, bytes=0, remote_ref=f"drill {drill.drill}: nothing sent")
    raise TerminalError(
        f"drill {drill.drill}: {destination} is broken on purpose (nothing was sent to it);"
        " the drill mends it in a moment"
    )
