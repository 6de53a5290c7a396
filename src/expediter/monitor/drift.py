"""Schema drift: each inbound stream remembers the shape it has sent, and a change is seen on arrival.

A stream is what one source sends of one kind (``pos/orders``, ``square/square.event``) or what
one file flow brings (``file:<flow id>``, its columns). Its first :data:`LEARN_MESSAGES` payloads
(the first file, for a file flow) teach its shape (:mod:`expediter.monitor.shapes`); after that a
field that is new, missing (it was always there) or of another type is a **drift**: recorded once
with an example (card numbers masked), alerted once (:meth:`DriftWatch.on_new`), and each flow
that carries the stream applies its ``drift`` policy to what showed it (the inbox stores the
message with its deliveries ``pending``, ``held`` or ``quarantined``). A field the canonical model
does not know (an order's misspelled ``alergy_note``) is a drift from the very first payload.

What it costs per message: canonical orders posted to the API were decoded strictly already
(:mod:`expediter.model.strict`: an unknown field is seen there, for free), so their whole shape is
read only while the stream learns, while one of its drifts is open, and in one payload of
:data:`SAMPLE_EVERY` otherwise (a field that stops coming is seen within that many orders). Every
other payload's shape is read whole (``json_shape``: a generic decode and a walk), and a shape seen
before is judged from memory: only a new shape with a change writes to the database, in the
transaction that stores the message.

Several hub processes share the tables; each re-reads them when they changed, at most every
:data:`REFRESH_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec
import structlog

from expediter.catalog.schema import Catalog, DriftPolicy, Flow, Level
from expediter.model.labor import Employee, TimePunch
from expediter.model.order import Order
from expediter.model.strict import known_path
from expediter.monitor import drift_store
from expediter.monitor.drift_store import Drift, StreamRecord
from expediter.monitor.shapes import (
    Change,
    FieldChange,
    FieldShape,
    Shape,
    apply,
    changes,
    example_at,
    json_shape,
    learn,
)
from expediter.plugin.base import IncomingMessage
from expediter.storage.base import Storage, Tx

log = structlog.get_logger(__name__)

LEARN_MESSAGES = 200
"""Payloads a message stream learns its shape from (a file flow: its first file)."""
SAMPLE_EVERY = 64
"""After learning, the whole shape of one strictly decoded canonical payload in this many."""
REFRESH_SECONDS = 2.0
SHAPES_KEPT = 512
"""Shapes judged from memory per stream (the oldest are forgotten beyond)."""
CANONICAL: dict[str, type[msgspec.Struct]] = {"orders": Order, "punches": TimePunch, "employees": Employee}
"""Kinds with a canonical model: only a field the model does not know is new."""


class Arrival(StrEnum):
    """What the caller already knows of a payload it hands the inbox."""

    CHECKED = "checked"
    """Decoded strictly against its canonical model: no unknown field (the rest is sampled)."""
    UNCHECKED = "unchecked"
    """Nothing: its whole shape is read."""


class DeliveryHold(StrEnum):
    """The state a flow's policy gives a delivery of a message that showed a drift."""

    PENDING = "pending"
    HELD = "held"
    QUARANTINED = "quarantined"


_HOLDS = {
    DriftPolicy.ACCEPT: DeliveryHold.PENDING,
    DriftPolicy.HOLD: DeliveryHold.HELD,
    DriftPolicy.QUARANTINE: DeliveryHold.QUARANTINED,
}


def stream_of(source: str, kind: str) -> str:
    return f"{source}/{kind}"


def file_stream(flow_id: str) -> str:
    return f"file:{flow_id}"


@dataclass
class _Stream:
    name: str
    source: str
    kind: str
    fields: dict[str, FieldShape] = field(default_factory=dict)
    messages: int = 0
    learning: bool = True
    open: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """The open drifts: (path, change, type) → drift id."""
    shapes: dict[Shape, tuple[FieldChange, ...]] = field(default_factory=dict)
    counter: int = 0
    learn_from: int = LEARN_MESSAGES
    holds: bool = False
    """A flow carrying it holds or quarantines what drifted (so the stream does not learn it)."""

    @property
    def watched(self) -> bool:
        """Every payload's shape must be read: it is learning, or waiting for a person."""
        return self.learning or (self.holds and bool(self.open))


def _merge(stream: _Stream, record: StreamRecord, opened: dict[tuple[str, str, str], int]) -> None:
    """Fold what the tables hold of a stream into its memory, in place (a verdict not yet stored
    refers to it). What a stream knows only widens (types add up, a field stops being required,
    learning ends), so nothing judged here and not yet committed is lost, and what another process
    learned or accepted is taken. Of the open drifts, those accepted elsewhere close (open when
    the read began, not in the tables); those settled here during the read stay."""
    fields = dict(record.fields)
    for path, mine in stream.fields.items():
        theirs = fields.get(path)
        fields[path] = mine if theirs is None else _widest(mine, theirs)
    if fields != stream.fields or (stream.learning and not record.learning):
        stream.shapes.clear()
    stream.fields = fields
    stream.messages = max(stream.messages, record.messages)
    stream.learning = stream.learning and record.learning
    stream.open = {
        **{d.change.key: d.id for d in record.open},
        **{key: drift_id for key, drift_id in stream.open.items() if key not in opened},
    }


def _widest(one: FieldShape, other: FieldShape) -> FieldShape:
    return FieldShape(types=one.types | other.types, required=one.required and other.required)


@dataclass
class Verdict:
    """What one payload showed, and what its transaction must write (:meth:`record`)."""

    stream: _Stream
    changes: tuple[FieldChange, ...]
    examples: dict[str, str]
    learned: list[tuple[str, FieldShape]] = field(default_factory=list)
    save_stream: bool = False
    inherited: list[int] = field(default_factory=list)
    """Open drifts of the message this one was made from (a processor's output)."""

    @property
    def drifted(self) -> bool:
        return bool(self.changes or self.inherited)

    def record(self, tx: Tx, message_id: int | None, *, alone: bool = False) -> list[int]:
        """Write the stream's shape and the drifts, linked to the message stored with them
        (``alone``: no message, a file set aside); returns the drifts' ids."""
        stream = self.stream
        if self.save_stream:
            drift_store.save_stream(
                tx, stream.name, stream.source, stream.kind, stream.messages, stream.learning
            )
        if self.learned:
            drift_store.save_fields(tx, stream.name, self.learned)
        if message_id is None and not alone:
            return []  # a duplicate of a stored message: it showed what that one showed
        ids = [
            drift_store.save_drift(tx, stream.name, change, self.examples.get(change.path, ""), message_id)
            for change in self.changes
        ]
        if message_id is not None:
            for drift_id in [*ids, *self.inherited]:
                drift_store.link_message(tx, drift_id, message_id)
        return ids


NewDrift = Callable[[str, list[str], FieldChange, str], Any]
"""Called with (stream, flow ids, change, example) once per drift first seen by this process."""


class DriftWatch:
    def __init__(self, catalog: Catalog, storage: Storage) -> None:
        self.catalog = catalog
        self.storage = storage
        self._streams: dict[str, _Stream] = {}
        self._version = ""
        self._checked_at = 0.0
        self.on_new: NewDrift | None = None
        self._decode = msgspec.json.Decoder()

    # -- memory ------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._load()

    def refresh_due(self) -> bool:
        return time.monotonic() - self._checked_at >= REFRESH_SECONDS

    async def refresh(self) -> None:
        """Re-read the tables when another process changed them (a drift accepted at the CLI)."""
        self._checked_at = time.monotonic()
        if await self.storage.read(drift_store.version) != self._version:
            await self._load()

    async def _load(self) -> None:
        """Read the tables into memory, merged with what memory knows that they may not hold yet:
        payloads judged whose transactions have not committed, drifts settled during the read."""
        opened = {name: dict(stream.open) for name, stream in self._streams.items()}
        self._version, records = await self.storage.read(
            lambda tx: (drift_store.version(tx), drift_store.read_streams(tx))
        )
        for record in records:
            stream = self._streams.get(record.stream)
            if stream is None:
                self._streams[record.stream] = self._from_record(record)
            else:
                _merge(stream, record, opened.get(record.stream, {}))
        self._checked_at = time.monotonic()

    def _from_record(self, record: StreamRecord) -> _Stream:
        stream = _Stream(
            name=record.stream,
            source=record.source_system,
            kind=record.kind,
            fields=dict(record.fields),
            messages=record.messages,
            learning=record.learning,
            learn_from=1 if record.stream.startswith("file:") else LEARN_MESSAGES,
            holds=self._holds(record.stream),
        )
        stream.open = {d.change.key: d.id for d in record.open}
        return stream

    def _stream(self, name: str, source: str, kind: str, learn_from: int) -> _Stream:
        found = self._streams.get(name)
        if found is None:
            found = _Stream(
                name=name, source=source, kind=kind, learn_from=learn_from, holds=self._holds(name)
            )
            self._streams[name] = found
        return found

    # -- flows and policies --------------------------------------------------------------------------

    def flows_of(self, stream: str) -> list[Flow]:
        """The enabled flows that carry a stream: those from its source of its kind (a file flow:
        itself; a product's raw events, processed into canonical ones: every flow from it)."""
        if stream.startswith("file:"):
            flow = self.catalog.flow(stream.removeprefix("file:"))
            return [flow] if flow is not None else []
        source, _, kind = stream.partition("/")
        found = [f for f in self.catalog.flows_from(source, kind) if f.level is Level.REALTIME]
        return found or [f for f in self.catalog.flows_from(source) if f.level is Level.REALTIME]

    def _holds(self, stream: str) -> bool:
        return any(f.drift is not DriftPolicy.ACCEPT for f in self.flows_of(stream))

    def hold_for(self, flow_id: str, verdict: Verdict | None) -> DeliveryHold:
        """The state of a delivery of ``flow_id`` for a message with ``verdict``."""
        if verdict is None or not verdict.drifted:
            return DeliveryHold.PENDING
        flow = self.catalog.flow(flow_id)
        return _HOLDS[flow.drift] if flow is not None else DeliveryHold.PENDING

    # -- judging -----------------------------------------------------------------------------------

    def observe(self, message: IncomingMessage, arrival: Arrival, raw: bytes | None = None) -> Verdict | None:
        """The verdict on a message about to be stored (``raw``: what the sender sent, when the
        stored payload is the hub's re-encoding of it); ``None`` when there is nothing to write."""
        stream = self._streams.get(stream_of(message.source_system, message.kind))
        if stream is None:
            stream = self._stream(
                stream_of(message.source_system, message.kind),
                message.source_system,
                message.kind,
                LEARN_MESSAGES,
            )
        if arrival is Arrival.CHECKED and not stream.watched:
            stream.counter += 1
            if stream.counter % SAMPLE_EVERY:
                return None
        try:
            value = self._decode.decode(raw if raw is not None else message.payload)
        except msgspec.DecodeError:
            return None
        return self.judge(stream, json_shape(value), value, CANONICAL.get(message.kind))

    def observe_file(self, flow: Flow, shape: Shape, examples: dict[str, str]) -> Verdict | None:
        """The verdict on an arriving file's columns (``shapes.columns_shape``)."""
        stream = self._stream(file_stream(flow.id), flow.from_, flow.data, 1)
        return self.judge(stream, shape, None, None, examples)

    def judge(
        self,
        stream: _Stream,
        shape: Shape,
        value: Any,
        model: type[msgspec.Struct] | None,
        examples: dict[str, str] | None = None,
    ) -> Verdict | None:
        known = stream.shapes.get(shape)
        if known is not None and not stream.learning:
            return self._verdict(stream, known, value, examples) if known else None
        is_new = (lambda path: not known_path(model, path)) if model is not None else None
        found = changes(stream.fields, shape, is_new=is_new)
        if stream.learning:
            return self._learning(stream, shape, found if model is not None else [], value, examples)
        if found and not stream.holds:
            return self._accepted(stream, shape, found, value, examples)
        self._remember(stream, shape, tuple(found))
        return self._verdict(stream, tuple(found), value, examples) if found else None

    def _learning(
        self,
        stream: _Stream,
        shape: Shape,
        found: list[FieldChange],
        value: Any,
        examples: dict[str, str] | None,
    ) -> Verdict:
        """A payload of a stream still learning: its shape is learned, but a field the model does
        not know (``found``, added fields only) stays a drift."""
        unknown = tuple(c for c in found if c.change is Change.ADDED)
        before = stream.fields
        stream.fields = learn(
            before, shape, first=stream.messages == 0, skip=frozenset(c.path for c in unknown)
        )
        stream.messages += 1
        stream.learning = stream.messages < stream.learn_from
        if not stream.learning:
            stream.shapes.clear()
        learned = [(p, f) for p, f in stream.fields.items() if before.get(p) != f]
        verdict = self._verdict(stream, unknown, value, examples)
        verdict.learned, verdict.save_stream = learned, True
        return verdict

    def _accepted(
        self,
        stream: _Stream,
        shape: Shape,
        found: list[FieldChange],
        value: Any,
        examples: dict[str, str] | None,
    ) -> Verdict:
        """Every flow accepts: the change is learned at once (and recorded, and warned about)."""
        before = stream.fields
        for change in found:
            stream.fields = apply(stream.fields, change)
        stream.shapes.clear()
        verdict = self._verdict(stream, tuple(found), value, examples)
        verdict.learned = [(p, f) for p, f in stream.fields.items() if before.get(p) != f]
        return verdict

    def _remember(self, stream: _Stream, shape: Shape, found: tuple[FieldChange, ...]) -> None:
        if len(stream.shapes) >= SHAPES_KEPT:
            stream.shapes.pop(next(iter(stream.shapes)))
        stream.shapes[shape] = found

    def _verdict(
        self,
        stream: _Stream,
        found: tuple[FieldChange, ...],
        value: Any,
        examples: dict[str, str] | None,
    ) -> Verdict:
        new = [c for c in found if c.key not in stream.open]
        shown = dict(examples or {})
        if value is not None:
            shown.update({c.path: example_at(value, c.path) for c in new if c.change is not Change.REMOVED})
        return Verdict(stream=stream, changes=found, examples=shown)

    def settle(self, verdict: Verdict, drift_ids: list[int]) -> None:
        """After the commit: each drift first seen here is open (known by id), and announced."""
        stream = verdict.stream
        for change, drift_id in zip(verdict.changes, drift_ids, strict=False):
            if change.key not in stream.open:
                stream.open[change.key] = drift_id
                self._announce(stream, change, verdict.examples.get(change.path, ""))

    def _announce(self, stream: _Stream, change: FieldChange, example: str) -> None:
        flows = [f.id for f in self.flows_of(stream.name)]
        log.warning(
            "schema_drift", stream=stream.name, change=change.change.value, path=change.path, flows=flows
        )
        if self.on_new is not None:
            self.on_new(stream.name, flows, change, example)

    # -- recorded on their own (files) ---------------------------------------------------------------

    async def record(self, verdict: Verdict) -> list[int]:
        """Record a verdict that no stored message carries (a file quarantined by its flow)."""
        ids = await self.storage.write(lambda tx: verdict.record(tx, None, alone=True))
        self.settle(verdict, ids)
        return ids

    async def hold_file(self, flow: Flow, name: str, checksum: str, data: bytes, verdict: Verdict) -> int:
        """Keep a file its flow holds, linked to its drifts, until they are accepted or released."""

        def hold(tx: Tx) -> tuple[int, list[int]]:
            ids = verdict.record(tx, None, alone=True)
            return drift_store.hold_file(tx, flow.id, name, checksum, data, ids), ids

        file_id, ids = await self.storage.write(hold)
        self.settle(verdict, ids)
        return file_id

    async def released_file(self, file_id: int) -> None:
        await drift_store.released_file(self.storage, file_id)

    # -- inherited drift -----------------------------------------------------------------------------

    async def inherited(self, message: IncomingMessage, origin_message_id: int) -> Verdict | None:
        """The verdict on a processor's output: the open drifts of the message it was made from
        (its flows' policies apply to it as to that message)."""
        if not any(stream.open for stream in self._streams.values()):
            return None  # nothing is open anywhere (this process's view): no read needed
        found = await drift_store.origin_drifts(self.storage, origin_message_id)
        if not found:
            return None
        name = stream_of(message.source_system, message.kind)
        stream = self._stream(name, message.source_system, message.kind, LEARN_MESSAGES)
        return Verdict(stream=stream, changes=(), examples={}, inherited=found)

    # -- people --------------------------------------------------------------------------------------

    async def accept(self, drift_ids: Iterable[int]) -> list[Drift]:
        """Accept drifts: their changes become part of their streams' shape."""
        found = await drift_store.drifts(self.storage, every=True, ids=list(drift_ids))
        await self._load()
        learned: dict[str, list[tuple[str, FieldShape]]] = {}
        for drift in found:
            stream = self._streams.get(drift.stream)
            if stream is None:
                continue
            before = stream.fields
            stream.fields = apply(stream.fields, drift.change)
            stream.shapes.clear()  # what they showed is judged anew
            learned.setdefault(drift.stream, []).extend(
                (p, f) for p, f in stream.fields.items() if before.get(p) != f
            )
        await drift_store.accept(self.storage, [d.id for d in found], learned)
        await self._load()
        return found


_EFFECT = {
    DriftPolicy.ACCEPT: "delivered (the flow accepts drift)",
    DriftPolicy.HOLD: "held until the change is accepted or released",
    DriftPolicy.QUARANTINE: "quarantined until released",
}


def drift_text(catalog: Catalog, stream: str, flow_id: str, change: FieldChange, example: str) -> str:
    """An alert's words: what changed, an example, and what the flow did with it."""
    flow = catalog.flow(flow_id)
    shown = f" (e.g. {example})" if example else ""
    effect = f"; {_EFFECT[flow.drift]}" if flow is not None else ""
    return f"{stream}: {change.describe()}{shown}{effect}; review with `expediter drift list`"
