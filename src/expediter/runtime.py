"""The running hub: the engine plus the built-in services, started and stopped together.

``expediter serve`` and ``expediter demo`` both run a :class:`Runtime`. It wires what the parts need
from each other and nothing else:

- the **kitchen** (when a system uses the ``kds`` connector): tickets, screens, 86; it emits ticket
  status and availability back through the inbox, and answers the online-ordering connector;
- **order versions** for connectors that must not let an older version overwrite a newer one;
- the **scheduler** for file flows (``FileJobs`` runs each planned run), catching up from the ledger;
- **alerting**: a watch loop that evaluates every flow's health (failing, late), dead letters and
  the other kinds (:mod:`expediter.watchers`: volume, signature bursts, offline screens and printers,
  missing files), routes alerts to the catalog's channels, repeats and escalates them;
- **drills** on each flow's ``drill_schedule`` (:mod:`expediter.drill`);
- **reconciliation and self-healing nights**: a loop that re-runs the nights of the last 30 business
  dates whose files are missing or whose inputs changed (under each flow's ``heal`` policy),
  reconciles the night that closed and every day still differing, and alerts each flow's owner
  while a check differs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from datetime import date, datetime, timedelta
from typing import Any

import structlog

from expediter import __version__
from expediter.catalog.paths import catalog_folder
from expediter.catalog.paths import data_dir as catalog_data_dir
from expediter.catalog.schema import Catalog, Flow, Level
from expediter.drill import DrillResult, run_drill
from expediter.engine import messages
from expediter.engine.heal import LOOK_BACK_DAYS, NIGHTLY_DATA, Healer, HealOutcome, Night
from expediter.engine.hub import Hub
from expediter.engine.inbound import FileArrivals
from expediter.engine.jobs import FileJobs, RunResult
from expediter.engine.polls import poll_window
from expediter.engine.reconcile import Reconciler
from expediter.engine.schedule_time import (
    PlannedRun,
    business_day_end,
    closes_business_date,
    next_occurrence,
    scheduled_pairs,
)
from expediter.engine.scheduler import Scheduler
from expediter.errors import ConfigError, ExpediterError
from expediter.ledger.drills import running_drills
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.location import Location
from expediter.monitor import drift_store
from expediter.monitor.alerts import AlertKind
from expediter.monitor.drift import drift_text
from expediter.monitor.drift_store import Drift
from expediter.monitor.ledger_view import statuses_from_ledger
from expediter.monitor.processes import Heartbeat
from expediter.monitor.reconcile.alerts import sync_alerts
from expediter.monitor.reconcile.model import CheckResult, CheckState
from expediter.monitor.reconcile.store import differing, load_results
from expediter.monitor.routes import Alerting, AlertRouter
from expediter.monitor.shapes import FieldChange
from expediter.plugin.base import Capability, IncomingMessage
from expediter.watchers import Watchers, money_at_risk

log = structlog.get_logger(__name__)

WATCH_SECONDS = 30.0
RECONCILE_SECONDS = 15 * 60.0
"""How often the reconciliation and healing loop looks back over the nights."""
DEAD_LETTER_WATCH_SECONDS = 5.0
VOLUME_WATCH_SECONDS = 300.0
"""An hour's volume changes slowly: counted every five minutes, not at each watch."""
SECOND = timedelta(seconds=1)


class OrderVersions:
    """The newest version the hub holds of an order, by the source system's own id.

    Canonical orders derived from a product's events carry the idempotency key
    ``<source>:<external id>:<version>`` (see :class:`~expediter.plugin.base.IncomingMessage`);
    a key range on the unique index finds every version of one order without a scan.
    """

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def latest_version(self, source_system: str, external_id: str) -> int | None:
        prefix = f"{source_system}:{external_id}:"
        keys = await self.hub.storage.read(lambda tx: messages.keys_starting(tx, prefix, "orders"))
        versions = [int(v) for key in keys if (v := key[len(prefix) :]).isdigit()]
        return max(versions, default=None)


class Runtime:
    def __init__(
        self,
        catalog: Catalog,
        hub: Hub | None = None,
        *,
        schedule: bool = True,
        watch: bool = True,
        heartbeat: bool = False,
    ) -> None:
        """``heartbeat``: this process writes its row in ``hub_processes`` (``expediter serve``)."""
        self.catalog = catalog
        self.hub = hub or Hub(catalog)
        self.jobs = FileJobs(self.hub)
        self.alerting = Alerting(
            AlertRouter.from_catalog(catalog, catalog_folder(catalog)),
            storage=self.hub.storage,
            at_risk=lambda flow, now: money_at_risk(self.hub, flow, now),
        )
        self.watchers = Watchers(self.hub, self.alerting)
        self.hub.alerting = self.alerting  # type: ignore[attr-defined]  # read by the dashboard
        self.kitchen: Any = None
        self.edge: Any = None
        """The restaurant edge (``[edge]``): its NATS server and links to the group."""
        self.edge_board: Any = None
        """The group's view of its edges (``[group_edges]``)."""
        self.edge_intake: Any = None
        """The group storing what its edges relayed (``[group_edges]``)."""
        self._schedule = schedule
        self._watch = watch
        self._scheduler: Scheduler | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.stopped_parts: dict[str, str] = {}
        """What stopped running while the hub runs (``the scheduler`` → why): an alert, and an
        unhealthy ``/healthz``, until the hub is restarted."""
        self._reports: set[asyncio.Task[Any]] = set()
        self._late_recorded: set[tuple[str, datetime]] = set()
        self.arrivals: FileArrivals | None = None
        self.healer = Healer(self.hub, self.run_flow)
        """Kept between passes: it remembers which nights' inputs it found unchanged."""
        self.watching = False
        """Whether this process fires and resolves alerts (the one that delivers)."""
        self.role: list[str] = []
        """``primary`` and the parts that run once per database it holds, ``standby`` (it takes
        them over when the primary dies) or ``ingest only`` (its heartbeat says)."""
        self._beat: Heartbeat | None = None
        self._heartbeat = heartbeat
        self.hub.drift.on_new = self._drift_found

    async def start(self) -> None:
        """Start the hub; the kitchen, the scheduler and the alert watch run only in the process
        that holds them (see :meth:`Hub.claim_singletons`), so several processes never double
        them. On PostgreSQL every process delivers, and one that does not hold them asks again
        every ``[hub] takeover_seconds``, taking them over when their holder died."""
        self._stopping = False
        data_dir = catalog_data_dir(self.catalog)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.hub.services.order_versions = OrderVersions(self.hub)
        self.hub.services.runtime = self
        self.hub.deliveries.accepts = self._may_deliver
        delivering = self.hub.claim_deliveries()
        holding = delivering and await asyncio.to_thread(self.hub.claim_singletons)
        if holding:
            await self.hub.start_storage()  # the kitchen's tables are the hub's; deliveries wait
            await self._start_kitchen()
        await self.hub.start()
        if holding:
            await self._start_singletons()
        else:
            self.role = ["standby"] if delivering and self.hub.shared else ["ingest only"]
        if delivering and self.hub.shared:
            self.spawn(self._claim_watch(holding), "the claim watch (no standby takeover)")
        if self._heartbeat:
            self._beat = Heartbeat(id=self.hub.process_id, started_at=clock.now(), version=__version__)
            await self._write_beat()
            self.spawn(self._heartbeat_loop(), "the heartbeat (expediter status sees this process as stale)")

    async def _start_singletons(self) -> None:
        enabled = [flow.id for flow in self.catalog.flows if flow.enabled]
        await self.hub.ledger.note_watched(enabled, clock.now())
        await self.alerting.load()
        self.watching = True
        if self.kitchen is not None and self.hub.bus is not None:
            self.hub.bus.publish_kitchen(self.kitchen)
        await self._start_edges()
        self.role = ["primary", *(["kitchen"] if self.kitchen is not None else [])]
        if self._schedule:
            await self._start_scheduler()
            self.role.append("scheduler")
        if self._watch:
            self.spawn(self._watch_loop(), "the alert watch (failure, lateness and dead-letter alerts)")
            self.role.append("alert watch")
        if self._schedule and self._watch:
            self.spawn(
                self._reconcile_loop(),
                "the reconciliation watch (nights are not healed, reconciliation does not run)",
            )
            self.role.append("reconciliation")
        if self._schedule:
            self._start_pollers()
            self._start_file_arrivals()
            self._start_drills()

    def _may_deliver(self, lane: str) -> bool:
        """A kitchen destination's lane goes only from the process running the kitchen."""
        if self.kitchen is not None or not self.hub.shared:
            return True
        system = self.catalog.system(lane.rpartition("|")[0])
        connector = None if system is None else self.hub.connector(system.connector)
        return connector is None or Capability.KITCHEN_SERVICE not in connector.capabilities

    async def _claim_watch(self, holding: bool) -> None:
        """PostgreSQL: a standby asks for the parts that run once until it gets them (their
        holder died or stopped); the holder checks it still holds them."""
        every = self.catalog.hub.takeover_seconds
        while not holding:
            await asyncio.sleep(every)
            holding = await asyncio.to_thread(self.hub.claim_singletons)
        if not self.watching:
            log.info("singletons_taken_over", process=self.hub.process_id)
            await self._start_kitchen()
            await self._start_singletons()
            await self._write_beat()
        while await asyncio.to_thread(self.hub.storage_claim_alive):
            await asyncio.sleep(every)
        raise ConfigError(
            "this process lost its claim on the database (its connection broke): another process may"
            " now run the scheduler and the alert watch too"
        )

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.catalog.hub.takeover_seconds)
            try:
                await self._write_beat()
            except Exception:  # the database is away: the next beat tries again
                log.exception("heartbeat_failed")

    async def _write_beat(self) -> None:
        beat, role, now = self._beat, list(self.role), clock.now()
        if beat is not None:
            await self.hub.storage.write(lambda tx: beat.write(tx, now, role))

    async def stop(self) -> None:
        self._stopping = True
        beat, self._beat = self._beat, None
        if self._scheduler is not None:
            self._scheduler.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # reported when it ended
                await task
        self._tasks.clear()
        for report in list(self._reports):
            with contextlib.suppress(Exception):
                await report
        for part in (
            self.edge,
            self.edge_intake,
            self.edge_board,
        ):  # before the kitchen: the downlink applies 86s
            if part is not None:
                await part.stop()
        if self.kitchen is not None:  # before the hub: its last status messages still go in
            await self.kitchen.stop()
        if beat is not None:
            with contextlib.suppress(Exception):
                await self.hub.storage.write(beat.remove)
        await self.hub.stop()

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- background parts ----------------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, None], part: str) -> asyncio.Task[None]:
        """Run ``work`` for as long as the runtime runs. ``part`` names it for a manager (``the
        scheduler (no flow runs on schedule)``): should it end before :meth:`stop`, by an error or
        otherwise, that is an alert and ``/healthz`` answers 503 with the reason."""
        task = asyncio.create_task(work, name=part)
        task.add_done_callback(self._ended)
        self._tasks.append(task)
        return task

    def health_problems(self) -> list[str]:
        """Why the hub is not healthy (empty when it is): each part that stopped, and why."""
        return [f"{part} stopped: {why}" for part, why in self.stopped_parts.items()]

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self._stopping:
            return
        part = task.get_name()
        error = None if task.cancelled() else task.exception()
        if error is not None:
            why = f"{type(error).__name__}: {error}"
        else:
            why = "it was cancelled" if task.cancelled() else "it ended without an error"
        self.stopped_parts[part] = why
        log.error("background part stopped", part=part, error=why, exc_info=error)
        message = "; ".join(self.health_problems()) + "; restart the hub once the cause is fixed"
        report = asyncio.get_running_loop().create_task(
            self.alerting.fire(AlertKind.STOPPED, message, clock.now())
        )
        self._reports.add(report)
        report.add_done_callback(self._reports.discard)

    # -- kitchen ------------------------------------------------------------------------------------

    async def _start_kitchen(self) -> None:
        if not self.hub.systems_offering(Capability.KITCHEN_SCREENS):
            return
        from expediter.operations.kitchen import Kitchen, KitchenStore

        self.kitchen = Kitchen.from_catalog(self.catalog, KitchenStore(self.hub.storage), emit=self._emit)
        self.hub.services.kitchen = self.hub.services.availability = self.kitchen
        await self.kitchen.start()
        from expediter.engine.menu import route_by_menu

        await route_by_menu(self.hub)

    async def _emit(self, message: IncomingMessage) -> None:
        await self.hub.inbox.accept(message)

    # -- restaurant edges ---------------------------------------------------------------------------

    async def _start_edges(self) -> None:
        """After the kitchen and the hub: the downlink applies to the one, the relay reads the other."""
        if self.catalog.edge is not None:
            from expediter.edge.service import EdgeService

            self.edge = EdgeService(self.hub, self.catalog, self.catalog.edge)
            await self.edge.start()
            self.hub.services.extra["edge"] = self.edge
        if self.catalog.group_edges is not None:
            from expediter.edge.group import EdgeBoard

            self.edge_board = EdgeBoard.from_catalog(self.catalog)
            await self.edge_board.start()
            self.hub.services.extra["edge_board"] = self.edge_board
            from expediter.edge.intake import EdgeIntake

            board = self.edge_board
            self.edge_intake = EdgeIntake(self.hub, board.config, board.locations)
            await self.edge_intake.start()
            self.hub.services.extra["edge_intake"] = self.edge_intake

    # -- scheduled file flows ----------------------------------------------------------------------

    async def _start_scheduler(self) -> None:
        pairs = scheduled_pairs(self.catalog)
        if not pairs:
            return
        self._scheduler = Scheduler(
            pairs,
            self._run_planned,
            last_runs=await self._scheduler_cursors(pairs),
            on_skipped=self._skipped,
            on_error=self._not_planned,
        )
        self.spawn(self._scheduler.run(), "the scheduler (no flow runs on schedule)")

    async def _run_planned(self, planned: PlannedRun) -> None:
        result = await self.run_flow(planned.flow_id, planned.location_id, planned.business_date)
        log.info(
            "scheduled run",
            flow=planned.flow_id,
            location=planned.location_id,
            business_date=str(planned.business_date),
            catch_up=planned.catch_up,
            outcome=str(result.outcome),
        )

    async def run_flow(
        self, flow_id: str, location_id: str, start: date, end: date | None = None, **options: Any
    ) -> RunResult:
        """Run a file flow now and alert at once when it fails (``options`` as
        :meth:`FileJobs.run` takes them)."""
        result = await self.jobs.run(flow_id, location_id, start, end, **options)
        now = clock.now()
        if result.outcome is TransferOutcome.FAILED:
            await self.alerting.fire(
                AlertKind.FAILURE, f"{flow_id} for {start}: {result.error}", now, flow_id, location_id
            )
        else:
            await self.alerting.resolve(AlertKind.FAILURE, now, flow_id, location_id)
            await self._notices(result, now)
        return result

    async def _notices(self, result: RunResult, now: datetime) -> None:
        """Something a successful run set aside for a person (pay held): alert until it is gone."""
        flow_id, location_id = result.flow_id, result.location_id
        if result.notices:
            message = f"{flow_id} for {result.start_date}: " + " | ".join(result.notices)
            await self.alerting.fire(AlertKind.HELD_FOR_REVIEW, message, now, flow_id, location_id)
        else:
            await self.alerting.resolve(AlertKind.HELD_FOR_REVIEW, now, flow_id, location_id)

    async def _not_planned(self, flow: Flow, location: Location, exc: Exception) -> None:
        """A scheduled flow the scheduler cannot plan: alerted; the other flows run on."""
        message = f"{flow.id} is not running on schedule at {location.id}: {exc}"
        await self.alerting.fire(AlertKind.FAILURE, message, clock.now(), flow.id, location.id)

    async def _skipped(self, planned: PlannedRun) -> None:
        """A missed run the flow's policy skips: in the ledger, so the gap is visible."""
        now = clock.now()
        flow = self.catalog.flow(planned.flow_id)
        await self.hub.ledger.record(
            Transfer(
                flow_id=planned.flow_id,
                direction=Direction.OUT,
                level=Level.FILE,
                transport=flow.transport if flow else "",
                started_at=now,
                finished_at=now,
                outcome=TransferOutcome.SKIPPED,
                error="missed while the hub was down; skipped by the flow's catch_up policy",
                location_id=planned.location_id,
                business_date=planned.business_date,
            )
        )

    async def _scheduler_cursors(self, pairs: list[tuple[Flow, Location]]) -> dict[tuple[str, str], datetime]:
        """Where the scheduler takes each (flow, location) up: after its last run that went out
        (:meth:`_last_runs`), else from when the hub, in any of its processes, began watching the
        flow. So a run that came due while a group's scheduler moved to a standby (its holder
        died just before the due time) runs there, once; a new flow still replays no history."""
        found = await self._last_runs()
        watched = await self.hub.ledger.watched_since()
        for flow, location in pairs:
            since = watched.get(flow.id)
            if since is not None:
                found.setdefault((flow.id, location.id), since)
        return found

    async def _last_runs(self) -> dict[tuple[str, str], datetime]:
        """Per (flow, location): the scheduled time of the run that closed the latest business date
        that went out successfully. Failed, skipped and late records do not count (their nights are
        caught up), and a manual re-run of an old night does not move the point back."""

        found: dict[tuple[str, str], datetime] = {}
        for flow_id, location_id, day in await self.hub.ledger.last_files_sent():
            flow, location = self.catalog.flow(flow_id), self.catalog.location(location_id)
            if flow is None or location is None or not flow.schedule:
                continue
            day_end = business_day_end(location, day)
            try:
                found[(flow.id, location.id)] = next_occurrence(
                    flow.schedule, location.timezone, day_end - SECOND
                )
            except ConfigError:  # a schedule the hub cannot run: the scheduler reports it
                continue
        return found

    # -- files that arrive ---------------------------------------------------------------------------

    def _start_file_arrivals(self) -> None:
        self.arrivals = FileArrivals(self.hub, on_error=self._file_error)
        for watcher in self.arrivals.build():
            self.spawn(watcher.run(), f"the file watcher on {watcher.transport.endpoint}")

    async def _file_error(self, flow: Flow, exc: ExpediterError) -> None:
        await self.alerting.fire(AlertKind.FAILURE, f"{flow.id}: {exc}", clock.now(), flow.id)

    # -- polling fallback ----------------------------------------------------------------------------

    def _start_pollers(self) -> None:
        for system in self.catalog.systems:
            minutes = system.settings.get("poll_minutes", 0)
            connector = self.hub.connector(system.connector)
            if connector is not None and connector.poll is not None and minutes:
                self.spawn(
                    self._poll_loop(system.id, float(minutes) * 60),
                    f"the polling fallback of system {system.id}",
                )

    async def _poll_loop(self, system_id: str, every: float) -> None:
        while True:
            try:
                await self.poll_once(system_id, window=timedelta(seconds=every * 2))
            except Exception:  # one bad poll must not end the fallback; the ledger has the failure
                log.exception("poll failed", system=system_id)
            await asyncio.sleep(every)

    async def poll_once(self, system_id: str, *, window: timedelta, now: datetime | None = None) -> int:
        """Ask ``system_id`` what changed in the last ``window`` and store what the inbox lacks;
        returns how many messages were new. Duplicates of webhook deliveries store nothing.
        Canonical messages are stored as processed; anything else (a record the connector
        could not map, as it came) goes to the system's processing, where a refusal becomes a
        dead letter with its reason. A message the inbox refuses (a card number in it) is left
        out, and the poll goes on with the others; the poll's transfer says what was refused."""
        now = now or clock.now()
        return await poll_window(self.hub, system_id, now - window, now)

    async def _record_lateness(self, now: datetime) -> None:
        """A lateness alert leaves one ``late`` transfer in the ledger, so the gap stays on record
        after the alert resolves."""
        for alert in self.alerting.book.firing():
            key = (alert.flow_id or "", alert.started_at)
            if alert.kind is not AlertKind.LATENESS or key in self._late_recorded:
                continue
            self._late_recorded.add(key)
            flow = self.catalog.flow(alert.flow_id or "")
            await self.hub.ledger.record(
                Transfer(
                    flow_id=alert.flow_id or "",
                    direction=Direction.OUT,
                    level=Level.FILE,
                    transport=flow.transport if flow else "",
                    started_at=now,
                    finished_at=now,
                    outcome=TransferOutcome.LATE,
                    error=alert.message,
                    location_id=alert.location_id,
                )
            )

    # -- schema drift -----------------------------------------------------------------------------

    def _drift_found(self, stream: str, flows: list[str], change: FieldChange, example: str) -> None:
        """A drift first seen: its alert fires at once in the process that watches (in another, the
        watch finds it in the database within :data:`WATCH_SECONDS`), and the watch keeps it firing
        until it is accepted."""
        if not self.watching:
            return
        for flow_id in flows or [stream]:
            report = asyncio.get_running_loop().create_task(
                self.alerting.fire(
                    AlertKind.DRIFT,
                    drift_text(self.catalog, stream, flow_id, change, example),
                    clock.now(),
                    flow_id,
                )
            )
            self._reports.add(report)
            report.add_done_callback(self._reports.discard)

    async def _watch_drift(self, now: datetime) -> None:
        """A drift alert per flow while one of its streams has an open drift; held deliveries
        whose drifts were all accepted (in another process, say) go back to their lanes."""
        open_drifts = await drift_store.drifts(self.hub.storage)
        by_flow: dict[str, list[Drift]] = {}
        for drift in open_drifts:
            for flow_id in [f.id for f in self.hub.drift.flows_of(drift.stream)] or [drift.stream]:
                by_flow.setdefault(flow_id, []).append(drift)
        for flow_id in sorted({f.id for f in self.catalog.flows} | set(by_flow)):
            found = by_flow.get(flow_id)
            if found:
                first = found[0]
                text = drift_text(self.catalog, first.stream, flow_id, first.change, first.example)
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                await self.alerting.fire(AlertKind.DRIFT, text + more, now, flow_id, occurrence=False)
            else:
                await self.alerting.resolve(AlertKind.DRIFT, now, flow_id)
        settled = await drift_store.settled(self.hub.storage, await self.hub.deliveries.held_messages())
        if settled:
            await self.hub.deliveries.release(settled)

    # -- alerts --------------------------------------------------------------------------------------

    async def _watch_loop(self) -> None:
        """Every flow's health each :data:`WATCH_SECONDS`; the dead letters more often (a cheap
        count), so a replay made elsewhere (the CLI) resolves its alert within seconds."""
        loop = asyncio.get_running_loop()
        next_full = next_volume = loop.time()
        while True:
            try:
                if loop.time() >= next_full:
                    next_full = loop.time() + WATCH_SECONDS
                    volume = loop.time() >= next_volume
                    if volume:
                        next_volume = loop.time() + VOLUME_WATCH_SECONDS
                    await self.watch_once(volume=volume)
                else:
                    await self.watch_dead_letters()
            except Exception:  # the watch must outlive one bad evaluation
                log.exception("alert watch failed")
            await asyncio.sleep(DEAD_LETTER_WATCH_SECONDS)

    async def watch_once(self, now: datetime | None = None, *, volume: bool = True) -> None:
        """Every kind, once. ``volume=False`` leaves out the volume counts (a handful of indexed
        counts per flow and location, which the loop takes only every few minutes)."""
        now = now or clock.now()
        await self.alerting.evaluate_health(await statuses_from_ledger(self.hub.ledger, now), now)
        await self._record_lateness(now)
        await self._watch_drift(now)
        await self.watchers.watch(now, volume=volume)
        await self.watch_dead_letters(now)

    async def watch_dead_letters(self, now: datetime | None = None) -> None:
        """Fire or resolve each flow's dead-letter alert from the dead letters now in the database,
        then repeat, escalate and read acknowledgements (:meth:`Alerting.tick`). Called after a
        replay in this process too, so the alert resolves with the replay."""
        if not self.watching:
            return
        now = now or clock.now()
        drilled = await self.hub.storage.read(lambda tx: running_drills(tx, now))
        self.alerting.drilling = {drill.flow_id for drill in drilled}
        by_flow = await self.hub.deliveries.dead_by_flow()
        await self.alerting.evaluate_dead_letters(by_flow, now)
        await self.alerting.tick(now)

    # -- drills --------------------------------------------------------------------------------------

    async def drill(self, flow_id: str) -> DrillResult:
        """Drill ``flow_id`` here and now (see :mod:`expediter.drill`); a failed drill fires a
        ``drill_failed`` alert, a passed one resolves it."""
        result = await run_drill(self.hub, flow_id, nudge=self.watch_dead_letters if self.watching else None)
        await self.watch_dead_letters()  # the drill's dead-letter alert resolves with it, even when it failed
        now = clock.now()
        if not self.watching:  # the watching process keeps the alerts
            return result
        if result.passed:
            await self.alerting.resolve(AlertKind.DRILL_FAILED, now, flow_id)
        elif self.catalog.flow(flow_id) is not None:
            message = f"The drill of flow {flow_id} failed: {result.reason}"
            await self.alerting.fire(AlertKind.DRILL_FAILED, message, now, flow_id)
        return result

    def _start_drills(self) -> None:
        for flow in self.catalog.flows:
            if flow.enabled and flow.drill_schedule:
                self.spawn(self._drill_loop(flow), f"the drill schedule of flow {flow.id}")

    async def _drill_loop(self, flow: Flow) -> None:
        assert flow.drill_schedule is not None
        timezone = self.catalog.locations[0].timezone if self.catalog.locations else "UTC"
        while True:
            due = next_occurrence(flow.drill_schedule, timezone, clock.now())
            await asyncio.sleep(max(0.0, (due - clock.now()).total_seconds()))
            result = await self.drill(flow.id)
            log.info("scheduled drill", flow=flow.id, passed=result.passed, reason=result.reason)

    # -- reconciliation and self-healing nights ------------------------------------------------------

    async def _reconcile_loop(self) -> None:
        while True:
            await asyncio.sleep(RECONCILE_SECONDS)
            try:
                await self.reconcile_once()
            except Exception:  # one bad pass must not end the loop; the next one tries again
                log.exception("reconciliation pass failed")

    async def reconcile_once(self, now: datetime | None = None) -> list[CheckResult]:
        """Heal the last 30 nights, reconcile the night that closed and the days still differing,
        and fire or resolve the reconciliation and heal alerts."""
        now = now or clock.now()
        nights = await self.healer.look_back(now)
        await self._heal_alerts(nights, now)
        results: list[CheckResult] = []
        reconciler = Reconciler(self.hub)
        since = min((closes_business_date(loc, now) for loc in self.catalog.locations), default=now.date())
        since -= timedelta(days=LOOK_BACK_DAYS)
        for location, day in await self._days_to_reconcile(now, since):
            results += await reconciler.reconcile([location], day, day, now=now)
        await sync_alerts(self.alerting, await differing(self.hub.storage, since), now)
        return results

    async def _days_to_reconcile(self, now: datetime, since: date) -> list[tuple[str, date]]:
        """Each location's night that closed (until every check of it agrees: a green night is not
        read again every pass), and every day whose stored result still differs."""
        days = {(r.location_id, r.business_date) for r in await differing(self.hub.storage, since)}
        for location in self.catalog.locations:
            night = closes_business_date(location, now)
            stored = await load_results(self.hub.storage, night, night, [location.id])
            if not stored or any(r.state is not CheckState.AGREE for r in stored):
                days.add((location.id, night))
        return sorted(days)

    async def _heal_alerts(self, nights: list[Night], now: datetime) -> None:
        """A night left for a person, or still missing after its re-run: ``held_for_review`` for
        the flow's owner at that location, resolved at the first pass without one."""
        waiting: dict[tuple[str, str], list[Night]] = {}
        for night in nights:
            if night.outcome in (HealOutcome.ASKED, HealOutcome.FAILED):
                waiting.setdefault((night.flow_id, night.location_id), []).append(night)
        for (flow_id, location_id), found in waiting.items():
            await self.alerting.fire(AlertKind.HELD_FOR_REVIEW, heal_text(found), now, flow_id, location_id)
        for alert in self.alerting.book.firing():
            key = (alert.flow_id or "", alert.location_id or "")
            flow = self.catalog.flow(key[0])
            nightly = flow is not None and flow.data in NIGHTLY_DATA  # a pay hold is payroll's own
            if alert.kind is AlertKind.HELD_FOR_REVIEW and nightly and key not in waiting:
                await self.alerting.resolve(AlertKind.HELD_FOR_REVIEW, now, alert.flow_id, alert.location_id)


def heal_text(nights: list[Night]) -> str:
    parts = []
    for night in nights:
        if night.outcome is HealOutcome.FAILED:
            parts.append(f"{night.business_date} is still missing after its re-run: {night.error}")
        else:
            parts.append(f"{night.business_date} {night.problem}: {night.detail}")
    first = nights[0]
    return (
        f"{first.flow_id} at {first.location_id}: "
        + "; ".join(parts)
        + f"; send it with: expediter run {first.flow_id} --date {first.business_date}"
        f" --location {first.location_id}"
    )
