"""What the ledger says was delivered = what the destination holds.

For each file the ledger records as delivered for the day (the latest successful transfer of each
file name), the destination's folder is asked for it: present with the same checksum agrees; a
file that is missing, or whose content is not what was sent (someone edited it, a re-run of
another night overwrote it), differs. A document posted over an API (QuickBooks Online) is
acknowledged by the reference the destination returned.
"""

from __future__ import annotations

from datetime import date

import msgspec

from expediter.monitor.reconcile.common import plural, verdict
from expediter.monitor.reconcile.model import CheckName, CheckResult, Difference, Unit


class FileAck(msgspec.Struct, frozen=True, kw_only=True):
    """One delivered file and what the destination says about it."""

    flow_id: str
    file_name: str
    sent_checksum: str
    sent_bytes: int
    found: bool
    found_checksum: str = ""
    found_bytes: int = 0
    remote_ref: str = ""
    """Set when the destination acknowledged the document by its own reference (an API post)."""
    error: str = ""
    """Why the destination could not be asked."""


class DeliveryFacts(msgspec.Struct, kw_only=True):
    location_id: str
    business_date: date
    files: list[FileAck]


def check_deliveries(facts: DeliveryFacts) -> CheckResult:
    differences = [d for d in (_difference(ack) for ack in facts.files) if d is not None]
    first = next((a.flow_id for a in facts.files if a.file_name in {d.record for d in differences}), "")
    return verdict(
        CheckName.DELIVERIES,
        facts.location_id,
        facts.business_date,
        differences,
        agreed=f"{plural(len(facts.files), 'file')} delivered, each held by its destination as sent",
        pending="" if facts.files else "no file has gone out for the day yet",
        flow_id=first or next((a.flow_id for a in facts.files), ""),
        unit=Unit.COUNT,
        totals={
            "delivered": len(facts.files),
            "acknowledged": len(facts.files) - len(differences),
        },
    )


def _difference(ack: FileAck) -> Difference | None:
    values = {"sent bytes": ack.sent_bytes, "found bytes": ack.found_bytes}
    if ack.error:
        return Difference(
            record=ack.file_name, problem=f"could not ask the destination: {ack.error}", values=values
        )
    if ack.remote_ref:
        return None
    if not ack.found:
        return Difference(
            record=ack.file_name,
            problem=f"not at the destination ({ack.flow_id}); re-run the night",
            values=values,
        )
    if ack.found_checksum != ack.sent_checksum:
        return Difference(
            record=ack.file_name,
            problem=f"the destination holds other content than was sent ({ack.flow_id})",
            values=values,
        )
    return None
