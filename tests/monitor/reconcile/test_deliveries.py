"""What the ledger says was delivered = what the destination holds."""

from __future__ import annotations

from expediter.monitor.reconcile.deliveries import DeliveryFacts, FileAck, check_deliveries
from expediter.monitor.reconcile.model import CheckState
from tests.monitor.reconcile.helpers import DAY, LOCATION

SENT = "sha256:" + "a" * 64


def _ack(**fields: object) -> FileAck:
    base: dict[str, object] = {"flow_id": "nightly-journal", "file_name": "journal_L1_20261126.beancount"}
    base |= {
        "sent_checksum": SENT,
        "sent_bytes": 812,
        "found": True,
        "found_checksum": SENT,
        "found_bytes": 812,
    }
    return FileAck(**(base | fields))  # type: ignore[arg-type]


def _check(*acks: FileAck) -> CheckState:
    return check_deliveries(DeliveryFacts(location_id=LOCATION.id, business_date=DAY, files=list(acks))).state


def test_a_file_gone_from_the_destination_differs_until_the_night_is_sent_again() -> None:
    result = check_deliveries(
        DeliveryFacts(
            location_id=LOCATION.id,
            business_date=DAY,
            files=[_ack(found=False, found_checksum="", found_bytes=0)],
        )
    )
    assert result.state is CheckState.DIFFER
    [difference] = result.differences
    assert (
        difference.record == "journal_L1_20261126.beancount"
        and "not at the destination" in difference.problem
    )
    assert difference.values == {"sent bytes": 812, "found bytes": 0}
    assert _check(_ack()) is CheckState.AGREE


def test_a_file_edited_at_the_destination_differs() -> None:
    assert _check(_ack(found_checksum="sha256:" + "b" * 64, found_bytes=800)) is CheckState.DIFFER


def test_a_document_posted_over_an_api_is_acknowledged_by_its_reference() -> None:
    assert (
        _check(_ack(found=True, found_checksum="", remote_ref="JournalEntry 142 (DS-L1-20261126, created)"))
        is CheckState.AGREE
    )
    assert _check(_ack(error="sftp://host:22: connection refused")) is CheckState.DIFFER
