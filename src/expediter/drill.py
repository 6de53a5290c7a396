"""``expediter drill FLOW``: break a flow on purpose and see its alert reach someone and clear.

"Integrations must be tested": a drill proves, on the running hub, that when this flow breaks
somebody hears about it. It touches no real system:

1. it stores one drill delivery for the flow, in a lane of its own (:mod:`expediter.engine.drill_lane`);
   the delivery worker fails it for good, so the flow has a dead letter;
2. the watching process fires the flow's ``dead_letter`` alert (marked as a drill) and sends it to
   the flow's channels; the drill waits until every channel was told, and fails if one refused;
3. it mends the flow and replays the drill delivery, which now succeeds without being sent anywhere;
4. the alert resolves and its channels are told; the drill checks they were.

Every step goes through the database, so the drill runs the same whether it is started inside the
hub (a flow's ``drill_schedule``) or by the command, against a hub running elsewhere. Each drill is
recorded in the ``drills`` table with its outcome and steps; its delivery's attempts are in the
ledger as ``<flow>#drill``. Drills work on real-time flows (those that deliver messages).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
import structlog

from expediter.catalog.schema import Flow, Level
from expediter.engine.drill_lane import (
    drill_delivery_state,
    drill_lane,
    settle_drill_delivery,
    store_drill_delivery,
)
from expediter.engine.hub import Hub
from expediter.ledger import drills
from expediter.ledger.drills import DrillPhase
from expediter.model import clock
from expediter.monitor import alert_store
from expediter.monitor.alerts import Alert, AlertKind, AlertState
from expediter.monitor.channels import NoticeEvent
from expediter.monitor.routes import AlertRouter

log = structlog.get_logger(__name__)
DRILL_TIMEOUT = 90.0
"""Seconds a whole drill may take (the hub watches dead letters every 5 s; a mail server may be slow)."""
POLL_SECONDS = 0.2
Nudge = Callable[[], Awaitable[None]]


class DrillResult(msgspec.Struct, kw_only=True):
    flow_id: str
    passed: bool
    reason: str = ""
    steps: list[str] = []
    drill_id: int | None = None


class DrillFailed(Exception):
    """One step of a drill did not happen; the message says which, and what to look at."""


def refusal(hub: Hub, flow_id: str) -> str | None:
    """Why ``flow_id`` cannot be drilled now (``None``: it can)."""
    flow = hub.catalog.flow(flow_id)
    if flow is None:
        known = ", ".join(f.id for f in hub.catalog.flows) or "(none)"
        return f"no flow {flow_id!r} in the catalog (flows: {known})"
    if not flow.enabled:
        return f"flow {flow_id} is disabled (enabled = false): enable it to drill it"
    if flow.level is not Level.REALTIME:
        return (
            f"flow {flow_id} is a {flow.level} flow; drills break deliveries, which only real-time"
            " flows make (a file flow's alerts are drilled through a real-time flow on the same route)"
        )
    return None


async def run_drill(
    hub: Hub, flow_id: str, *, timeout: float = DRILL_TIMEOUT, nudge: Nudge | None = None
) -> DrillResult:
    """Drill ``flow_id`` on ``hub`` (see the module docstring). ``nudge`` is the watch's dead-letter
    evaluation when the drill runs inside the watching process (it then need not wait for it)."""
    refused = refusal(hub, flow_id)
    if refused is not None:
        return DrillResult(flow_id=flow_id, passed=False, reason=refused)
    flow = hub.catalog.flow(flow_id)
    assert flow is not None
    run = _Drill(hub, flow, time.monotonic() + timeout, nudge)
    return await run.run()


class _Drill:
    def __init__(self, hub: Hub, flow: Flow, deadline: float, nudge: Nudge | None) -> None:
        self.hub = hub
        self.flow = flow
        self.deadline = deadline
        self.nudge = nudge
        self.router = AlertRouter(hub.catalog, {})
        self.steps: list[str] = []
        self.drill_id = 0
        self.delivery_id: int | None = None

    async def run(self) -> DrillResult:
        started = clock.now()
        reason = ""
        try:
            await self._check_quiet()
            self.drill_id = await self.hub.storage.write(
                lambda tx: drills.start_drill(tx, self.flow.id, started)
            )
            alert = await self._break(started)
            await self._mend()
            await self._see_resolved(alert)
        except DrillFailed as exc:
            reason = str(exc)
        finally:
            await self._clean_up()
        passed = not reason
        if self.drill_id:
            now, steps = clock.now(), list(self.steps)
            await self.hub.storage.write(
                lambda tx: drills.finish_drill(tx, self.drill_id, passed, reason, steps, now)
            )
        log.info("drill", flow=self.flow.id, passed=passed, reason=reason)
        return DrillResult(
            flow_id=self.flow.id,
            passed=passed,
            reason=reason,
            steps=self.steps,
            drill_id=self.drill_id or None,
        )

    async def _check_quiet(self) -> None:
        for alert in await self.hub.storage.read(alert_store.open_alerts):
            if alert.flow_id == self.flow.id and alert.kind is AlertKind.DEAD_LETTER:
                raise DrillFailed(
                    f"flow {self.flow.id} already has dead letters (alert {alert.id} is open): a drill"
                    " would not see a new alert fire; replay or fix them first"
                )
        running = await self.hub.storage.read(lambda tx: drills.running_drills(tx, clock.now()))
        if any(d.flow_id == self.flow.id for d in running):
            raise DrillFailed(f"a drill of flow {self.flow.id} is running already")

    async def _break(self, started: datetime) -> Alert:
        flow, drill_id = self.flow, self.drill_id
        self.delivery_id = await self.hub.storage.write(lambda tx: store_drill_delivery(tx, flow, drill_id))
        self.hub.deliveries.notify([drill_lane(flow)])
        self.steps.append(
            f"broke {flow.to} for the drill's own delivery {self.delivery_id} (nothing real sent)"
        )
        await self._until(
            lambda: self._delivery_is("dead"),
            "the drill's delivery was not tried: is the hub running and delivering (expediter serve)?",
        )
        self.steps.append("the delivery failed and became a dead letter")
        alert = await self._until(
            lambda: self._opened_since(started),
            f"no dead_letter alert fired for {flow.id}: is the hub's alert watch running?",
        )
        self.steps.append(f"the dead_letter alert {alert.id} fired")
        await self._reached(alert, NoticeEvent.FIRING)
        return alert

    async def _mend(self) -> None:
        drill_id, delivery_id = self.drill_id, self.delivery_id
        await self.hub.storage.write(lambda tx: drills.set_phase(tx, drill_id, DrillPhase.FIX))
        assert delivery_id is not None
        await self.hub.deliveries.replay([delivery_id])
        self.steps.append("mended the flow and replayed the drill's delivery")
        await self._until(
            lambda: self._delivery_is("delivered"), "the replayed drill delivery was not delivered"
        )

    async def _see_resolved(self, alert: Alert) -> None:
        assert alert.id is not None
        alert_id = alert.id

        async def resolved() -> Alert | None:
            found = await self.hub.storage.read(lambda tx: alert_store.alert_by_id(tx, alert_id))
            return found if found is not None and found.state is AlertState.RESOLVED else None

        await self._until(resolved, f"the dead_letter alert {alert_id} did not resolve after the replay")
        self.steps.append(f"the alert {alert_id} resolved")
        await self._reached(alert, NoticeEvent.RESOLVED)

    async def _reached(self, alert: Alert, event: NoticeEvent) -> None:
        """Every channel of the alert's route was told about ``event``, without an error."""
        expected = set(self.router.channel_names_for(alert))
        assert alert.id is not None
        ids = [alert.id]

        async def told() -> list[alert_store.Notification] | None:
            found = await self.hub.storage.read(lambda tx: alert_store.notifications(tx, ids))
            sent = [n for n in found if n.event == event]
            return sent if {n.channel for n in sent} >= expected and sent else None

        sent = await self._until(told, f"the {event} alert did not reach its channels {sorted(expected)}")
        refused = [n for n in sent if n.error]
        if refused:
            detail = "; ".join(f"{n.channel}: {n.error}" for n in refused)
            raise DrillFailed(f"the {event} alert did not reach every channel of its route: {detail}")
        self.steps.append(f"the {event} alert reached {', '.join(sorted({n.channel for n in sent}))}")

    async def _clean_up(self) -> None:
        """Whatever happened, the drill leaves no dead letter and no broken phase behind."""
        if self.drill_id:
            drill_id = self.drill_id
            await self.hub.storage.write(lambda tx: drills.set_phase(tx, drill_id, DrillPhase.FIX))
        if self.delivery_id is not None:
            delivery_id = self.delivery_id
            await self.hub.storage.write(lambda tx: settle_drill_delivery(tx, delivery_id))

    # -- waiting ---------------------------------------------------------------------------------

    async def _delivery_is(self, state: str) -> bool:
        delivery_id = self.delivery_id
        if delivery_id is None:
            return False
        return await self.hub.storage.read(lambda tx: drill_delivery_state(tx, delivery_id)) == state

    async def _opened_since(self, started: datetime) -> Alert | None:
        for alert in await self.hub.storage.read(alert_store.open_alerts):
            if (
                alert.flow_id == self.flow.id
                and alert.kind is AlertKind.DEAD_LETTER
                and alert.started_at >= started
            ):
                return alert
        return None

    async def _until(self, probe: Callable[[], Awaitable[Any]], failure: str) -> Any:
        """Poll ``probe`` until it gives something true; :class:`DrillFailed` at the deadline."""
        while True:
            if self.nudge is not None:
                await self.nudge()
            found = await probe()
            if found:
                return found
            if time.monotonic() > self.deadline:
                raise DrillFailed(failure)
            await asyncio.sleep(POLL_SECONDS)
