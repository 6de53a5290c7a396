"""Durable consumers that apply each bus message's effect once.

A consumer has a purpose and a durable name (``kitchen-<process>``, ``audit``); for each message it
runs ``apply(tx, message)`` in one transaction with a ``bus_inbox`` row (consumer, message id). The
row is inserted first: when it is already there (the server redelivered a message whose
acknowledgement was lost, or the relay published it twice beyond the duplicate window), the
effect is skipped, and the message is acknowledged all the same. An effect that fails is not
acknowledged: the server redelivers it after ``ack_wait``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import msgspec
import structlog

from expediter.engine.bus.relay import MSG_ID, STABLE_ID
from expediter.engine.storage.base import Storage, Tx, now_iso

log = structlog.get_logger(__name__)

FETCH_BATCH = 100
FETCH_SECONDS = 1.0
ACK_WAIT_SECONDS = 30.0


class BusMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message as a consumer sees it."""

    msg_id: str
    subject: str
    stream_seq: int
    payload: bytes


Apply = Callable[[Tx, BusMessage], None]


def applied_once(tx: Tx, consumer: str, message: BusMessage) -> bool:
    """Record that ``consumer`` applies ``message``; ``False`` when it already did (skip it)."""
    inserted = tx.one(
        "INSERT INTO bus_inbox (consumer, msg_id, stream_seq, applied_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (consumer, msg_id) DO NOTHING RETURNING msg_id",
        (consumer, message.msg_id, message.stream_seq, now_iso()),
    )
    return inserted is not None


def bus_message(raw: Any) -> BusMessage:
    """A ``nats-py`` JetStream message as a :class:`BusMessage` (the stream sequence as msg id when
    a publisher sent none)."""
    sequence = int(raw.metadata.sequence.stream)
    headers = raw.headers or {}
    return BusMessage(
        msg_id=headers.get(STABLE_ID) or headers.get(MSG_ID) or f"seq:{sequence}",
        subject=raw.subject,
        stream_seq=sequence,
        payload=bytes(raw.data),
    )


class BusConsumer:
    """A durable pull consumer of ``subject`` on ``stream`` applying ``apply`` once per message."""

    def __init__(
        self, storage: Storage, js: Any, *, name: str, stream: str, subject: str, apply: Apply
    ) -> None:
        self.storage = storage
        self.js = js
        self.name = name
        self.stream = stream
        self.subject = subject
        self._apply = apply
        self.applied = 0
        self.skipped = 0
        self._subscription: Any = None

    async def subscribe(self) -> Any:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        config = ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ACK_WAIT_SECONDS,
            max_ack_pending=FETCH_BATCH,
        )
        self._subscription = await self.js.pull_subscribe(
            self.subject, durable=self.name, stream=self.stream, config=config
        )
        return self._subscription

    async def handle(self, message: BusMessage) -> bool:
        """Apply ``message`` once; whether it was applied now (``False``: it had been already)."""

        def work(tx: Tx) -> bool:
            if not applied_once(tx, self.name, message):
                return False
            self._apply(tx, message)
            return True

        done = await self.storage.write(work)
        if done:
            self.applied += 1
        else:
            self.skipped += 1
        return done

    async def run_once(self) -> int:
        """Fetch and apply one batch; how many messages it held."""
        from nats.errors import TimeoutError as FetchTimeout

        if self._subscription is None:
            await self.subscribe()
        try:
            batch = await self._subscription.fetch(FETCH_BATCH, timeout=FETCH_SECONDS)
        except FetchTimeout:
            return 0
        for raw in batch:
            await self.handle(bus_message(raw))
            await raw.ack()
        return len(batch)

    async def run(self) -> None:
        """Consume for as long as the hub runs (cancel to stop)."""
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the bus is away: the messages wait in the stream
                log.warning("bus_consume_failed", consumer=self.name, error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(FETCH_SECONDS)  # a pause before asking the bus again

    async def pending(self) -> int | None:
        """Messages the server holds for this consumer (not yet delivered or acknowledged)."""
        with contextlib.suppress(Exception):
            info = await self.js.consumer_info(self.stream, self.name)
            return int(info.num_pending) + int(info.num_ack_pending)
        return None
