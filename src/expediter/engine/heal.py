"""Self-healing nights: find the nights of the last 30 business dates whose files are missing or
whose inputs changed after they went out, and run them again under the flow's policy.

A night is **missing** when a nightly file flow (sales summary, product mix, labor, journal,
usage) that had started running at the location has no successful transfer for it once the file
was due (a night the flow's ``catch_up = "skip_missed"`` skipped on purpose is not missing).

A night **changed** when the digest of its inputs today (the message versions its files would be
built from now: a late refund, a replayed or corrected order, a corrected punch) is not the
digest recorded with the transfer that sent it. Only nights with a message stored after that
transfer read its inputs (``as_of``): one small query per location and kind finds them.

The flow's ``settings.heal`` decides (:class:`~expediter.catalog.schema.HealPolicy`): ``resend``
runs the night again, ``correction`` sends the difference (a correcting journal entry,
``DS-...-C1``; other files again under a correction name), ``ask`` sends nothing and asks the
flow's owner. A missing night is run under ``resend`` and ``correction`` alike.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec
import structlog

from expediter.catalog.schema import Flow, HealPolicy, Level, Trigger, heal_policy
from expediter.engine.hub import Hub
from expediter.engine.jobs import (
    DATA_INPUTS,
    DRAWERS,
    ORDERS,
    PUNCHES,
    REFUND_LOOKBACK,
    WEEK_BEFORE,
    FileJobs,
    InputIds,
    RunResult,
    export_request,
)
from expediter.engine.reconcile import file_due
from expediter.engine.schedule_time import closes_business_date
from expediter.errors import ExpediterError
from expediter.ledger.lineage import inputs_digest
from expediter.ledger.transfers import Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.operations.accounting.correction import correction_entry
from expediter.operations.accounting.export import (
    DRAWER_COUNTS,
    JOURNAL_CORRECTIONS,
    JOURNAL_DATA,
    journals_for_request,
)
from expediter.operations.accounting.journal import DrawerCount, JournalEntry
from expediter.plugin.base import ExportRequest
from expediter.storage.blocking import EXTRA_KEY as BLOCKING_STORAGE
from expediter.storage.blocking import BlockingStorage

log = structlog.get_logger(__name__)

LOOK_BACK_DAYS = 30
NIGHTLY_DATA = frozenset({"sales_summary", "product_mix", "labor", "journal", "inventory_usage"})
"""File flows with one file set per business date: the nights the hub heals. A pay period is
re-run by hand (``expediter run FLOW --from --to``)."""
MESSAGE_KINDS = {ORDERS: "orders", PUNCHES: "punches", DRAWERS: "drawer_count"}
_CORRECTION = re.compile(r"-correction-(\d+)(\.[^.]*)?$")


class NightProblem(StrEnum):
    MISSING = "missing"
    CHANGED = "changed"


class HealOutcome(StrEnum):
    RESENT = "resent"
    CORRECTED = "corrected"
    ASKED = "asked"
    """Left for a person: the flow's policy is ``ask``."""
    FAILED = "failed"
    """Run again and failed: the night is still missing."""


class Night(msgspec.Struct, kw_only=True):
    flow_id: str
    location_id: str
    business_date: date
    problem: NightProblem
    policy: HealPolicy
    detail: str = ""
    outcome: HealOutcome | None = None
    files: list[str] = []
    error: str = ""


Run = Callable[..., Awaitable[RunResult]]


def correction_name(name: str, number: int) -> str:
    """``journal_L001_20261126.beancount`` → ``journal_L001_20261126-correction-1.beancount``."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}-correction-{number}.{suffix}" if dot else f"{name}-correction-{number}"


def next_correction(transfers: Sequence[Transfer]) -> int:
    numbers = [int(m.group(1)) for t in transfers if (m := _CORRECTION.search(t.file_name))]
    return max(numbers, default=0) + 1


def input_windows(data: str, day: date) -> dict[str, tuple[date, date]]:
    """Per message kind, the business dates a night's inputs come from."""
    kinds = DATA_INPUTS.get(data, frozenset())
    windows: dict[str, tuple[date, date]] = {}
    if ORDERS in kinds:
        windows["orders"] = (day - REFUND_LOOKBACK if "refunds" in kinds else day, day)
    if PUNCHES in kinds:
        windows["punches"] = (day - WEEK_BEFORE, day)
    if DRAWERS in kinds:
        windows["drawer_count"] = (day, day)
    return windows


class Healer:
    def __init__(self, hub: Hub, run: Run | None = None) -> None:
        self.hub = hub
        self.catalog = hub.catalog
        self.jobs = FileJobs(hub)
        self.run = run or self.jobs.run
        """Runs one night (the runtime's alerts on failure, or the plain jobs)."""
        self.verified: dict[int, int] = {}
        """Transfer id → the newest input message id at which its digest was found unchanged: a
        healer kept between passes (the running hub's) reads a night's inputs again only when a
        message newer than that arrives."""

    def flows(self, location: Location) -> list[Flow]:
        """The nightly file flows serving ``location``."""
        found = []
        for flow in self.catalog.flows:
            destination = self.catalog.system(flow.to)
            serves = destination is None or not destination.locations or location.id in destination.locations
            nightly = (
                flow.level is Level.FILE and flow.trigger is Trigger.SCHEDULE and flow.data in NIGHTLY_DATA
            )
            if flow.enabled and nightly and serves:
                found.append(flow)
        return found

    # -- finding ------------------------------------------------------------------------------------

    async def find(
        self, now: datetime | None = None, days: int = LOOK_BACK_DAYS, location_ids: Sequence[str] = ()
    ) -> list[Night]:
        """Every night of the last ``days`` business dates that is missing or changed."""
        now = now or clock.now()
        nights: list[Night] = []
        for location in self.catalog.locations:
            if location_ids and location.id not in location_ids:
                continue
            digests: dict[tuple[date, frozenset[str]], str] = {}
            newest = await self._newest(location, closes_business_date(location, now), days)
            for flow in self.flows(location):
                nights += await self._flow_nights(flow, location, now, days, newest, digests)
        return nights

    async def _newest(self, location: Location, last: date, days: int) -> dict[str, dict[date, int]]:
        """Per message kind and business date, the newest message id (one query per kind)."""
        first = last - timedelta(days=days) - REFUND_LOOKBACK
        found = {
            kind: await self.hub.inbox.newest_ids(kind, location.id, first, last)
            for kind in MESSAGE_KINDS.values()
        }
        return found

    async def _flow_nights(
        self,
        flow: Flow,
        location: Location,
        now: datetime,
        days: int,
        newest: dict[str, dict[date, int]],
        digests: dict[tuple[date, frozenset[str]], str],
    ) -> list[Night]:
        last = closes_business_date(location, now)
        started = await self.hub.ledger.first_business_date(flow.id, location.id)
        if started is None:
            return []  # the flow never ran here: nothing to heal, and no history to backfill
        first = max(started, last - timedelta(days=days - 1))
        transfers = await self.hub.ledger.day_transfers(flow.id, location.id, first, last)
        by_day: dict[date, list[Transfer]] = {}
        for transfer in transfers:
            if transfer.business_date is not None:
                by_day.setdefault(transfer.business_date, []).append(transfer)
        nights = []
        day = first
        while day <= last:
            if file_due(flow, location, day, now):
                night = await self._night(flow, location, day, by_day.get(day, []), newest, digests)
                if night is not None:
                    nights.append(night)
            day += timedelta(days=1)
        return nights

    async def _night(
        self,
        flow: Flow,
        location: Location,
        day: date,
        transfers: list[Transfer],
        newest: dict[str, dict[date, int]],
        digests: dict[tuple[date, frozenset[str]], str],
    ) -> Night | None:
        policy = _policy(flow)
        succeeded = [t for t in transfers if t.outcome is TransferOutcome.SUCCEEDED]
        if not succeeded:
            if any(t.outcome is TransferOutcome.SKIPPED for t in transfers):
                return None  # skipped on purpose by the flow's catch_up policy
            failed = next((t.error for t in reversed(transfers) if t.error), "")
            detail = f"no file went out{': ' + failed if failed else ''}"
            return Night(
                flow_id=flow.id,
                location_id=location.id,
                business_date=day,
                problem=NightProblem.MISSING,
                policy=policy,
                detail=detail,
            )
        latest = succeeded[-1]
        assert latest.id is not None
        recorded = await self.hub.ledger.inputs(latest.id)
        if recorded is None:
            return None
        newest_input = _newest_input(flow.data, day, newest)
        if newest_input <= max(recorded.as_of, self.verified.get(latest.id, 0)):
            return None
        digest = await self._digest_now(flow, location, day, digests)
        if digest == recorded.digest:
            self.verified[latest.id] = newest_input
            return None
        return Night(
            flow_id=flow.id,
            location_id=location.id,
            business_date=day,
            problem=NightProblem.CHANGED,
            policy=policy,
            detail=f"inputs changed after {latest.file_name or 'its file'} went out",
        )

    async def _digest_now(
        self, flow: Flow, location: Location, day: date, digests: dict[tuple[date, frozenset[str]], str]
    ) -> str:
        key = (day, DATA_INPUTS.get(flow.data, frozenset()))
        if key not in digests:
            inputs = InputIds(flow.data)
            await export_request(self.hub, flow, location, day, day, inputs=inputs)
            digests[key] = inputs_digest(inputs.ids)
        return digests[key]

    # -- healing ------------------------------------------------------------------------------------

    async def heal(self, nights: Sequence[Night]) -> list[Night]:
        """Act on each night under its flow's policy; returns them with their outcome."""
        healed = []
        for night in nights:
            try:
                healed.append(await self._heal(night))
            except ExpediterError as exc:
                healed.append(msgspec.structs.replace(night, outcome=HealOutcome.FAILED, error=str(exc)))
        return healed

    async def look_back(
        self, now: datetime | None = None, days: int = LOOK_BACK_DAYS, location_ids: Sequence[str] = ()
    ) -> list[Night]:
        return await self.heal(await self.find(now, days, location_ids))

    async def _heal(self, night: Night) -> Night:
        if night.policy is HealPolicy.ASK:
            return msgspec.structs.replace(night, outcome=HealOutcome.ASKED)
        if night.problem is NightProblem.CHANGED and night.policy is HealPolicy.CORRECTION:
            return await self._correct(night)
        result = await self.run(night.flow_id, night.location_id, night.business_date, night.business_date)
        return _after(night, result, HealOutcome.RESENT)

    async def _correct(self, night: Night) -> Night:
        flow = self.catalog.flow(night.flow_id)
        location = self.catalog.location(night.location_id)
        assert flow is not None and location is not None
        day = night.business_date
        transfers = await self.hub.ledger.day_transfers(
            flow.id, location.id, day, day, TransferOutcome.SUCCEEDED
        )
        number = next_correction(transfers)
        extra: dict[str, Any] = {}
        if flow.data == JOURNAL_DATA:
            posted = await self._posted_journal(flow, location, transfers[-1])
            request = await export_request(self.hub, flow, location, day, day)
            now = await asyncio.to_thread(journals_for_request, request)  # it reads the journal queue
            if not now or posted is None or correction_entry(now[0], posted, number) is None:
                result = await self.run(flow.id, location.id, day, day)  # the same amounts: refresh
                return _after(night, result, HealOutcome.RESENT)
            extra[JOURNAL_CORRECTIONS] = {day: (posted, number)}
        result = await self.run(
            flow.id, location.id, day, day, extra=extra, rename=lambda name: correction_name(name, number)
        )
        return _after(night, result, HealOutcome.CORRECTED)

    async def _posted_journal(self, flow: Flow, location: Location, sent: Transfer) -> JournalEntry | None:
        """The night's entry as the books hold it: built from the inputs its latest file carried."""
        assert sent.id is not None and sent.business_date is not None
        messages = await self.hub.inbox.get_many(await self.hub.ledger.carried_by(sent.id))
        orders = [msgspec.json.decode(m.payload, type=Order) for m in messages if m.kind == "orders"]
        drawers = [
            msgspec.json.decode(m.payload, type=DrawerCount) for m in messages if m.kind == "drawer_count"
        ]
        request = ExportRequest(
            catalog=self.catalog,
            location=location,
            start_date=sent.business_date,
            end_date=sent.business_date,
            orders=lambda: orders,
            punches=lambda: (),
            extra={
                "flow": flow,
                DRAWER_COUNTS: drawers,
                BLOCKING_STORAGE: BlockingStorage(self.hub.storage, asyncio.get_running_loop()),
            },
        )
        entries = await asyncio.to_thread(journals_for_request, request)
        return entries[0] if entries else None


def _policy(flow: Flow) -> HealPolicy:
    try:
        return heal_policy(flow)
    except ValueError:  # `expediter check` reports it; until fixed, a person decides
        return HealPolicy.ASK


def _newest_input(data: str, day: date, newest: dict[str, dict[date, int]]) -> int:
    """The id of the newest message a night reads from (0 when there is none)."""
    found = 0
    for kind, (start, end) in input_windows(data, day).items():
        by_day = newest.get(kind, {})
        found = max([found, *(message_id for d, message_id in by_day.items() if start <= d <= end)])
    return found


def _after(night: Night, result: RunResult, done: HealOutcome) -> Night:
    if result.outcome is TransferOutcome.SUCCEEDED:
        return msgspec.structs.replace(night, outcome=done, files=result.files)
    return msgspec.structs.replace(night, outcome=HealOutcome.FAILED, error=result.error)
