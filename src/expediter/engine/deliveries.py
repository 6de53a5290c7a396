"""Deliveries: hand each stored message to its destinations, in order per lane, until it lands.

A lane is one (destination, location): deliveries in a lane go strictly one after another in the
order they were stored, and lanes run independently, so one dead printer never holds up another
station. ``TransientError`` → retry after exponential backoff with jitter (capped at a minute) for
the flow's ``retry_hours`` (72 by default: a real outage is ridden out), or at most ``retry_limit``
retries, then dead letter; ``TerminalError`` and ``RejectedInput`` (a processor refusing what it
was given: it will never be accepted as it is) → dead letter now, with the reason. Each attempt's
outcome and its ledger transfer are committed together.

A dead letter of an ordered flow (the default) **holds its lane**: the deliveries stored after it
wait, so a replay later sends it first and the lane keeps its order; other lanes go on. A flow with
``ordered = false``, and a source's processing step (``<system>#process``, which fetches the
product's current state anyway), set their dead letters aside and the lane goes on.

Delivery is at-least-once: a crash between a sink's success and the commit of that success means
the attempt runs again after restart, with the same ``delivery_key``, which sinks pass on so the
effect happens once. States::

    pending ──► delivered
       │  ▲
       ▼  │ (backoff elapsed)
    retrying ──► dead ──(replay)──► pending

    held ──(the drift accepted, or released)──► pending
    quarantined ──(released)──► pending

A message whose shape drifted is stored with the deliveries of the flows whose ``drift`` policy is
``hold`` or ``quarantine`` set aside (:mod:`expediter.monitor.drift`); the lane goes on without
them, and :meth:`Deliveries.release` puts them back in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from expediter.catalog.schema import Flow
from expediter.engine import lanes
from expediter.engine.canonical import canonical_facts
from expediter.engine.drill_lane import DRILL_SUFFIX, hand_over_drill, is_drill
from expediter.engine.lane_claims import LaneClaims
from expediter.engine.lanes import DeliveryRecord, DeliveryState, WaitingLane
from expediter.engine.router import is_process_destination
from expediter.errors import RejectedInput, TerminalError, TransientError
from expediter.ledger.lineage import Link, LinkRole
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome, checksum_of
from expediter.model.cards import mask_card_numbers
from expediter.plugin.base import Outbound, Receipt
from expediter.storage.base import Row, Tx, from_iso, now_iso, to_iso, utcnow

if TYPE_CHECKING:
    from expediter.engine.hub import Hub

log = structlog.get_logger(__name__)

LANE_BATCH = 64
"""Deliveries read per lane query; a lane re-reads after each batch (and after every retry)."""
DEFAULT_RETRY_HOURS = 72.0
"""For a source's processing step, which has no flow of its own (see ``Flow.retry_hours``)."""
DEFAULT_ATTEMPT_TIMEOUT = 60.0
"""Seconds one hand-over may take before it counts as a transient failure: a sink that hangs must
not hold its lane forever."""


@dataclass(frozen=True)
class _Outcome:
    """How one attempt ended: the new state, the error people read, the wait before a retry."""

    state: DeliveryState
    error: str = ""
    delay: float = 0.0


_DELIVERED = _Outcome(DeliveryState.DELIVERED)

_OUTCOME = {
    DeliveryState.DELIVERED: TransferOutcome.SUCCEEDED,
    DeliveryState.RETRYING: TransferOutcome.RETRYING,
    DeliveryState.DEAD: TransferOutcome.DEAD,
}


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": half the step fixed, half random.

    Steps double from ``base`` up to ``cap`` (a minute: once a destination is back, the lane it
    held moves again within a minute); a destination's ``Retry-After`` is honoured up to
    ``longest_wait``."""

    base: float = 1.0
    cap: float = 60.0
    longest_wait: float = 3600.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        step = min(self.cap, self.base * 2 ** min(attempt - 1, 64))
        chosen = step / 2 + random.uniform(0, step / 2)
        if retry_after is not None:
            chosen = max(chosen, min(retry_after, max(self.cap, self.longest_wait)))
        return chosen


class DueDelivery(msgspec.Struct, kw_only=True):
    """A delivery with what the sink needs of its message."""

    id: int
    delivery_key: str
    message_id: int
    flow_id: str
    destination: str
    location_id: str | None
    lane: str
    attempts: int
    next_attempt_at: datetime
    kind: str
    content_type: str
    payload: bytes
    business_date: date | None
    retrying_since: datetime | None = None
    """When its current run of failures began (``None`` while it has not failed)."""
    stored_at: datetime | None = None
    """When its message was stored (delivery latency runs from here)."""


_HELD_AT = (
    "COALESCE((SELECT MIN(h.id) FROM deliveries h WHERE h.lane = ? AND h.state = 'dead'"
    " AND h.holds_lane = 1), 9223372036854775807)"
)
"""The id of the dead letter holding a lane (nothing after it goes), or past every id."""
_DUE_SQL = (
    "SELECT d.id, d.delivery_key, d.message_id, d.flow_id, d.destination, d.location_id, d.lane,"
    " d.attempts, d.next_attempt_at, d.retrying_since, m.kind, m.content_type, m.payload,"
    " m.business_date, m.received_at FROM deliveries d JOIN messages m ON m.id = d.message_id"
    f" WHERE d.lane = ? AND d.state IN ('pending', 'retrying') AND d.id < {_HELD_AT}"
    " ORDER BY d.id LIMIT ?"
)


def _due_from_row(row: Row) -> DueDelivery:
    return DueDelivery(
        id=row["id"],
        delivery_key=row["delivery_key"],
        message_id=row["message_id"],
        flow_id=row["flow_id"],
        destination=row["destination"],
        location_id=row["location_id"],
        lane=row["lane"],
        attempts=row["attempts"],
        next_attempt_at=from_iso(row["next_attempt_at"]),
        kind=row["kind"],
        content_type=row["content_type"],
        payload=bytes(row["payload"]),
        business_date=date.fromisoformat(row["business_date"]) if row["business_date"] else None,
        retrying_since=from_iso(row["retrying_since"]) if row["retrying_since"] else None,
        stored_at=from_iso(row["received_at"]),
    )


class Deliveries:
    """The delivery worker plus the dead-letter operations (list, replay)."""

    def __init__(
        self,
        hub: Hub,
        *,
        policy: RetryPolicy | None = None,
        poll_interval: float = 1.0,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        claims: LaneClaims | None = None,
    ) -> None:
        """``claims``: lanes are leased, so several processes deliver one database side by side
        (PostgreSQL, see :mod:`expediter.engine.lane_claims`); without, this process is the
        database's one delivery worker."""
        self.hub = hub
        self.claims = claims
        self.accepts: Callable[[str], bool] = lambda lane: True
        """Whether this process may deliver a lane now (a kitchen's lanes go only where the
        kitchen runs)."""
        self.attempt_timeout = attempt_timeout
        self.storage = hub.storage
        self.policy = policy or RetryPolicy()
        self.poll_interval = poll_interval
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._saves: set[asyncio.Task[DeliveryState]] = set()
        self._renewing: asyncio.Task[None] | None = None
        self.running = False

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume every open delivery (in-flight ones included) and start watching for new work.
        Dead letters of flows that no longer keep order (or left the catalog) release their lanes."""
        if self._main is None:
            ordered = [flow.id for flow in self.hub.catalog.flows if flow.ordered]
            await self.storage.write(lambda tx: lanes.release_unordered(tx, ordered))
            self.running = True
            self._main = asyncio.create_task(self._poll_loop(), name="deliveries")
            if self.claims is not None:
                self._renewing = asyncio.create_task(self._renew_loop(), name="lane leases")

    async def stop(self) -> None:
        self.running = False
        tasks = [t for t in (self._main, self._renewing, *self._lanes.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*self._saves, return_exceptions=True)  # outcomes already known: keep them
        self._main = self._renewing = None
        self._lanes.clear()
        if self.claims is not None:  # after the saves: the next owner reads every outcome
            with contextlib.suppress(Exception):
                await self.claims.release_all()

    def notify(self, lanes: Iterable[str]) -> None:
        """New deliveries were committed in these lanes: start them now, without waiting for a poll."""
        if not self.running:
            return
        for lane in lanes:
            if not self.accepts(lane):
                continue
            self._dirty.add(lane)
            if lane not in self._lanes:
                self._lanes[lane] = asyncio.create_task(self._run_lane(lane), name=f"lane {lane}")

    async def _poll_loop(self) -> None:
        """Catches what no notification announced: work found at startup, due retries, replays
        made by another process (the CLI) and deliveries stored by other hub processes."""
        while True:
            self.notify(await self.storage.read(lanes.open_lanes))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def _renew_loop(self) -> None:
        """Keep this process's lane leases; a lane another process took meanwhile stops here."""
        assert self.claims is not None
        while True:
            await asyncio.sleep(self.claims.renew_every)
            try:
                lost = await self.claims.renew()
            except Exception:  # the database is away: the lanes stop once their leases run out
                log.exception("lane_lease_renewal_failed")
                continue
            for lane in lost:
                log.warning("lane_lease_lost", lane=lane)
                task = self._lanes.get(lane)
                if task is not None:
                    task.cancel()

    # -- one lane ---------------------------------------------------------------------------------

    async def _run_lane(self, lane: str) -> None:
        try:
            while self.running:
                claims = self.claims
                if claims is not None and lane not in claims.held and not await claims.claim(lane):
                    return  # another process delivers it; the poll looks again
                self._dirty.discard(lane)
                batch = await self._due(lane)
                if not batch:
                    if lane in self._dirty:
                        continue
                    if self.claims is None:
                        return
                    await self.claims.release([lane])
                    # work stored while this process held the lane, by a process that could
                    # not claim it then: take the lane again rather than leave it to the poll
                    if not await self._due(lane):
                        return
                    continue
                finished = await self._work_through(batch)
                if finished and len(batch) < LANE_BATCH and self.claims is None and lane not in self._dirty:
                    return  # all of it went and nothing came since: no read to find the lane empty
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("lane_failed", lane=lane)
            if self.claims is not None:  # the poll starts it again, here or elsewhere
                with contextlib.suppress(Exception):
                    await self.claims.release([lane])
        finally:
            if self._lanes.get(lane) is asyncio.current_task():
                del self._lanes[lane]

    async def _due(self, lane: str) -> list[DueDelivery]:
        return await self.storage.read(
            lambda tx: [_due_from_row(r) for r in tx.all(_DUE_SQL, (lane, lane, LANE_BATCH))]
        )

    async def _work_through(self, batch: list[DueDelivery]) -> bool:
        """Deliver in order; stop at the first one that must wait (the lane re-reads after it).
        True when every one of them was delivered.

        Outcomes are saved without waiting for each commit: the next delivery goes out as soon as
        the previous one succeeded, and the batch's saves share group commits. They are all on
        disk before the lane reads again (so it never sees a finished delivery as pending); a
        crash before that only means a resend under the same delivery key.
        """
        saves: list[asyncio.Task[DeliveryState]] = []
        try:
            for delivery in batch:
                wait = (delivery.next_attempt_at - utcnow()).total_seconds()
                if wait > 0:
                    await _all_saved(saves)
                    await asyncio.sleep(wait)
                    return False
                state, save = await self._try(delivery)
                saves.append(save)
                if state is DeliveryState.RETRYING or (state is DeliveryState.DEAD and self._holds(delivery)):
                    return False  # the lane waits: for the retry, or for the dead letter's replay
        finally:
            states = await _all_saved(saves)
        return len(states) == len(batch) and all(state is DeliveryState.DELIVERED for state in states)

    async def attempt(self, delivery: DueDelivery) -> DeliveryState:
        """One attempt: hand over, then commit the new state and its ledger transfer together."""
        _, save = await self._try(delivery)
        return await save

    async def _try(self, delivery: DueDelivery) -> tuple[DeliveryState, asyncio.Task[DeliveryState]]:
        """Hand over once; return the outcome and the task saving it (state + transfer), which
        gives the final state. A sink whose receipt is still ``settled`` gives ``delivered`` at
        once (the lane goes on) and its save waits for the sink's write first."""
        attempt = delivery.attempts + 1
        flow = self.hub.catalog.flow(delivery.flow_id)
        started = utcnow()
        since = delivery.retrying_since or started
        try:
            receipt, produced = await self._hand_over_in_time(delivery, flow, attempt)
        except Exception as exc:
            failed = self._failed(delivery, flow, attempt, since, exc)
            work = self._conclude(delivery, flow, attempt, started, since, failed, None, [])
            return failed.state, self._saving(work)
        if receipt.settled is not None:
            work = self._once_settled(delivery, flow, attempt, started, since, receipt, produced)
        else:
            work = self._conclude(delivery, flow, attempt, started, since, _DELIVERED, receipt, produced)
        return DeliveryState.DELIVERED, self._saving(work)

    def _saving(self, work: Coroutine[Any, Any, DeliveryState]) -> asyncio.Task[DeliveryState]:
        save = asyncio.ensure_future(work)
        self._saves.add(save)
        save.add_done_callback(self._saves.discard)
        return save

    def _failed(
        self, delivery: DueDelivery, flow: Flow | None, attempt: int, since: datetime, exc: BaseException
    ) -> _Outcome:
        if isinstance(exc, TerminalError | RejectedInput):
            return _Outcome(DeliveryState.DEAD, str(exc) or type(exc).__name__)
        if not isinstance(exc, TransientError):
            log.error("sink_crashed", delivery_id=delivery.id, flow_id=delivery.flow_id, exc_info=exc)
        retry_after = exc.retry_after if isinstance(exc, TransientError) else None
        state, delay = self._after_transient(flow, attempt, retry_after, utcnow() - since)
        return _Outcome(state, str(exc) or type(exc).__name__, delay)

    async def _once_settled(
        self,
        delivery: DueDelivery,
        flow: Flow | None,
        attempt: int,
        started: datetime,
        since: datetime,
        receipt: Receipt,
        produced: list[int],
    ) -> DeliveryState:
        """Save a delivery once its sink's write is done (a failed or late write: a retry)."""
        assert receipt.settled is not None
        try:
            async with asyncio.timeout(self.attempt_timeout):
                await asyncio.shield(receipt.settled)
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                exc = TransientError(f"not saved within {self.attempt_timeout:g} s")
            failed = self._failed(delivery, flow, attempt, since, exc)
            return await self._conclude(delivery, flow, attempt, started, since, failed, None, [])
        return await self._conclude(delivery, flow, attempt, started, since, _DELIVERED, receipt, produced)

    async def _conclude(
        self,
        delivery: DueDelivery,
        flow: Flow | None,
        attempt: int,
        started: datetime,
        since: datetime,
        outcome: _Outcome,
        receipt: Receipt | None,
        produced: list[int],
    ) -> DeliveryState:
        """Count and log the outcome, then commit the new state with its ledger transfer."""
        state = outcome.state
        self._count(delivery, state)
        if state is not DeliveryState.DELIVERED:
            log.warning(
                "delivery_failed",
                delivery_id=delivery.id,
                flow_id=delivery.flow_id,
                attempt=attempt,
                state=str(state),
                error=outcome.error,
            )
        transfer = self._transfer(delivery, flow, started, state, receipt, outcome.error)
        links = [Link(delivery.message_id, LinkRole.CARRIED, delivery.id)]
        links += [Link(message_id, LinkRole.PRODUCED, delivery.id) for message_id in produced]
        failing_since = since if state is not DeliveryState.DELIVERED else None
        error = outcome.error
        await self._save(delivery, attempt, state, outcome.delay, error, transfer, links, failing_since)
        return state

    def _count(self, delivery: DueDelivery, state: DeliveryState) -> None:
        latency = None
        if state is DeliveryState.DELIVERED and delivery.stored_at is not None:
            latency = (utcnow() - delivery.stored_at).total_seconds()
        self.hub.counters.delivery(_ledger_flow(delivery), str(state), latency)

    def _after_transient(
        self, flow: Flow | None, attempt: int, retry_after: float | None, failing_for: timedelta
    ) -> tuple[DeliveryState, float]:
        """Retry until the flow's ``retry_hours`` have passed since the failures began (or its
        ``retry_limit``, if set, is used up); then it is a dead letter."""
        hours = flow.retry_hours if flow is not None else DEFAULT_RETRY_HOURS
        limit = flow.retry_limit if flow is not None else None
        if failing_for >= timedelta(hours=hours) or (limit is not None and attempt > limit):
            return DeliveryState.DEAD, 0.0
        return DeliveryState.RETRYING, self.policy.delay(attempt, retry_after)

    def _holds(self, delivery: DueDelivery) -> bool:
        """Whether this delivery, dead, holds its lane (its flow keeps order)."""
        if is_process_destination(delivery.destination):
            return False
        flow = self.hub.catalog.flow(delivery.flow_id)
        return flow is not None and flow.ordered

    async def _hand_over_in_time(
        self, delivery: DueDelivery, flow: Flow | None, attempt: int
    ) -> tuple[Receipt, list[int]]:
        """The receipt, and the ids of the messages a processing step produced (its lineage).
        The hand-over runs in the lane's own task under a deadline (``wait_for`` would make a task
        per delivery)."""
        try:
            async with asyncio.timeout(self.attempt_timeout):
                return await self._hand_over(delivery, flow, attempt)
        except TimeoutError:
            raise TransientError(f"no answer within {self.attempt_timeout:g} s") from None

    async def _hand_over(
        self, delivery: DueDelivery, flow: Flow | None, attempt: int
    ) -> tuple[Receipt, list[int]]:
        outbound = Outbound(
            delivery_id=delivery.id,
            delivery_key=delivery.delivery_key,
            message_id=delivery.message_id,
            flow_id=delivery.flow_id,
            destination=delivery.destination,
            location_id=delivery.location_id,
            kind=delivery.kind,
            payload=delivery.payload,
            content_type=delivery.content_type,
            attempt=attempt,
        )
        if is_drill(delivery.location_id):  # a drill's delivery never reaches a sink
            return await hand_over_drill(self.storage, delivery.payload, delivery.destination), []
        if is_process_destination(delivery.destination):
            processor = self.hub.processor_for(delivery.destination.split("#", 1)[0])
            produced = await processor.process(outbound)
            ids = []
            for message in produced:
                ref, day = canonical_facts(message, self.hub.catalog)
                accepted = await self.hub.inbox.accept(
                    message, ref=ref, business_date=day, processed=True, origin=delivery.message_id
                )
                ids.append(accepted.message_id)
            return Receipt(records=len(produced), bytes=len(delivery.payload)), ids
        if flow is None:
            raise TerminalError(f"flow {delivery.flow_id!r} is no longer in the catalog")
        return await self.hub.sink_for(delivery.destination).deliver(outbound), []

    def _transfer(
        self,
        delivery: DueDelivery,
        flow: Flow | None,
        started: datetime,
        state: DeliveryState,
        receipt: Receipt | None,
        error: str,
    ) -> Transfer:
        processing = is_process_destination(delivery.destination)
        return Transfer(
            flow_id=_ledger_flow(delivery),
            direction=Direction.IN if processing else Direction.OUT,
            level=str(flow.level) if flow else "realtime",
            transport=flow.transport if flow else "internal",
            endpoint=delivery.destination,
            remote_ref=receipt.remote_ref if receipt else "",
            started_at=started,
            finished_at=utcnow(),
            records=receipt.records if receipt else 0,
            bytes=(receipt.bytes or len(delivery.payload)) if receipt else len(delivery.payload),
            checksum=(receipt.checksum if receipt and receipt.checksum else checksum_of(delivery.payload)),
            outcome=_OUTCOME[state],
            error=error,
            location_id=delivery.location_id,
            business_date=delivery.business_date,
            delivery_id=delivery.id,
            message_id=delivery.message_id,
        )

    async def _save(
        self,
        delivery: DueDelivery,
        attempt: int,
        state: DeliveryState,
        delay: float,
        error: str,
        transfer: Transfer,
        links: list[Link],
        failing_since: datetime | None,
    ) -> None:
        now = utcnow()
        due = to_iso(now + timedelta(seconds=delay))
        holds = state is DeliveryState.DEAD and self._holds(delivery)
        since = to_iso(failing_since) if failing_since else None

        def save(tx: Tx) -> None:
            tx.execute(
                "UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?,"
                " updated_at = ?, holds_lane = ?, retrying_since = ? WHERE id = ?",
                (
                    str(state),
                    attempt,
                    due,
                    mask_card_numbers(error)[:2000],
                    to_iso(now),
                    int(holds),
                    since,
                    delivery.id,
                ),
            )
            self.hub.ledger.insert(tx, transfer, links)

        await self.storage.write(save)
        self.hub.ledger.committed()

    # -- dead letters and inspection --------------------------------------------------------------

    async def dead_by_flow(self) -> dict[str, int]:
        """How many dead letters each flow has (``<system>#process`` included), counted in SQL."""
        return await self.storage.read(lanes.dead_by_flow)

    async def dead_letters(self, flow_id: str | None = None, limit: int = 1000) -> list[DeliveryRecord]:
        return await self.records(DeliveryState.DEAD, flow_id=flow_id, limit=limit)

    async def dead_letters_with_payload(self, flow_id: str, limit: int = 200) -> list[lanes.DeadLetter]:
        """``flow_id``'s dead letters with the message each one carried, oldest first."""
        return await self.storage.read(lambda tx: lanes.dead_letters_with_payload(tx, flow_id, limit))

    async def records(
        self, state: DeliveryState | None = None, *, flow_id: str | None = None, limit: int = 1000
    ) -> list[DeliveryRecord]:
        return await self.storage.read(lambda tx: lanes.records(tx, state, flow_id, limit))

    async def get(self, delivery_id: int) -> DeliveryRecord | None:
        return await self.storage.read(lambda tx: lanes.record(tx, delivery_id))

    async def waiting_lanes(self, limit: int = 200) -> list[WaitingLane]:
        """Lanes whose first delivery cannot go now: held by a dead letter, or waiting to retry;
        oldest first, with how many deliveries wait behind."""
        return await self.storage.read(lambda tx: lanes.waiting_lanes(tx, limit))

    async def counts(self) -> dict[DeliveryState, int]:
        return await self.storage.read(lanes.counts)

    async def replay(self, delivery_ids: Iterable[int]) -> int:
        """Send dead letters back to pending, attempts reset; returns how many moved."""
        ids = list(delivery_ids)
        return await self._replay("id = ?", [(i,) for i in ids])

    async def replay_flow(self, flow_id: str) -> int:
        """Every dead letter of ``flow_id`` back to pending."""
        return await self._replay("flow_id = ?", [(flow_id,)])

    async def _replay(self, condition: str, param_sets: list[tuple[object, ...]]) -> int:
        now = now_iso()
        replayed = await self.storage.write(lambda tx: lanes.replay(tx, condition, param_sets, now))
        self.notify(set(replayed))
        return len(replayed)

    async def held_messages(self) -> list[int]:
        """The messages with a delivery held by a drift policy."""
        return await self.storage.read(lanes.held_messages)

    async def release(self, message_ids: Iterable[int], *, quarantined: bool = False) -> int:
        """The held deliveries of these messages (and the quarantined ones, with ``quarantined``)
        back to pending; returns how many moved."""
        states = [DeliveryState.HELD, *([DeliveryState.QUARANTINED] if quarantined else [])]
        ids, now = list(message_ids), now_iso()
        released = await self.storage.write(lambda tx: lanes.release(tx, ids, states, now))
        self.notify(set(released))
        return len(released)


def _ledger_flow(delivery: DueDelivery) -> str:
    """The flow the ledger and the counters name: a drill's attempts are ``<flow>#drill``."""
    return delivery.flow_id + DRILL_SUFFIX if is_drill(delivery.location_id) else delivery.flow_id


async def _all_saved(saves: list[asyncio.Task[DeliveryState]]) -> list[DeliveryState]:
    """Wait for the saves; their final states. Unlike ``gather``, a cancelled lane does not
    cancel them."""
    if not saves:
        return []
    await asyncio.wait(saves)
    states = [save.result() for save in saves]
    saves.clear()
    return states
