"""Unmapped → held (not posted, alert raised) → mapping added → resolved → released and posted."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from expediter.errors import RejectedInput
from expediter.operations.accounting.close import CloseStatus, close_journal, release_held, resolve_held
from expediter.operations.accounting.journal import JournalEntry
from expediter.operations.accounting.queue import HoldState, InMemoryJournalQueue, StoredJournalQueue
from expediter.storage.blocking import blocking_storage
from tests.operations.accounting.worked_day import (
    DAY,
    DRAWER,
    EXPECTED_LINES,
    LOCATION,
    MAPPINGS,
    worked_orders,
)

WITHOUT_BEER = msgspec.structs.replace(MAPPINGS, category_accounts={"Burgers": "4000 Food Sales"})


class Recorder:
    def __init__(self) -> None:
        self.alerts: list[tuple[str, str]] = []
        self.posted: list[JournalEntry] = []

    def alert(self, kind: str, message: str) -> None:
        self.alerts.append((kind, message))

    def post(self, entry: JournalEntry) -> None:
        self.posted.append(entry)


@pytest.fixture(params=["stored", "memory"])
def queue(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "memory":
        yield InMemoryJournalQueue()
        return
    with blocking_storage(str(tmp_path / "hub.db")) as storage:
        yield StoredJournalQueue(storage)


def _close(queue, recorder: Recorder, mappings=WITHOUT_BEER):  # type: ignore[no-untyped-def]
    return close_journal(
        worked_orders(),
        mappings,
        location_id=LOCATION,
        business_date=DAY,
        drawer=DRAWER,
        queue=queue,
        alert=recorder.alert,
        post=recorder.post,
    )


def test_unmapped_category_holds_the_day_and_alerts(queue) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    outcome = _close(queue, recorder)
    assert outcome.status is CloseStatus.HELD
    assert recorder.posted == []
    [(kind, message)] = recorder.alerts
    assert kind == "journal_unmapped"
    assert '"Beer" = "4000 Food Sales"' in message
    [held] = queue.list(HoldState.HELD)
    assert held.document_number == "DS-bk1-20261127"
    assert [(m.table.value, m.key) for m in held.missing] == [("category_accounts", "Beer")]
    assert held.entry is None


def test_resolve_after_mapping_added_then_release_posts(queue) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    _close(queue, recorder)
    [held] = queue.list(HoldState.HELD)
    with pytest.raises(RejectedInput, match="not resolved"):
        release_held(queue, LOCATION, DAY, recorder.post)
    still = resolve_held(queue, held, worked_orders(), WITHOUT_BEER, alert=recorder.alert, drawer=DRAWER)
    assert still.state is HoldState.HELD and len(recorder.alerts) == 2
    resolved = resolve_held(queue, held, worked_orders(), MAPPINGS, alert=recorder.alert, drawer=DRAWER)
    assert resolved.state is HoldState.RESOLVED
    assert recorder.posted == []
    entry = release_held(queue, LOCATION, DAY, recorder.post)
    assert recorder.posted == [entry]
    assert [(ln.account, ln.debit.amount, ln.credit.amount, ln.memo) for ln in entry.lines] == EXPECTED_LINES
    assert queue.list(HoldState.RELEASED)[0].document_number == entry.document_number
    with pytest.raises(RejectedInput):
        release_held(queue, LOCATION, DAY, recorder.post)
    assert len(recorder.posted) == 1


def test_mapped_day_posts_at_once(queue) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    outcome = _close(queue, recorder, MAPPINGS)
    assert outcome.status is CloseStatus.POSTED
    assert recorder.posted == [outcome.entry]
    assert recorder.alerts == [] and queue.list() == []


def test_held_day_survives_a_restart(database: str) -> None:
    with blocking_storage(database) as storage:
        _close(StoredJournalQueue(storage), Recorder())
    with blocking_storage(database) as storage:
        again = StoredJournalQueue(storage)
        assert [h.document_number for h in again.list(HoldState.HELD)] == ["DS-bk1-20261127"]
