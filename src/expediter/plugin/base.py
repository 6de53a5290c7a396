"""What a connector is: a declaration the engine plugs in; the engine does the loops.

A connector knows one product (Square, a CSV layout, an SFTP server, an ESC/POS printer). It maps
between that product and the canonical model and knows its transport. It never retries, schedules,
de-duplicates or writes the ledger: the engine does that once for every connector.

A connector package has fixed files: ``connector.py`` (the :class:`Connector` and its registration),
``config.py`` (its settings Struct; secrets are references), ``client.py`` (talking to the product),
``mapping.py`` (product ⇄ canonical), and ``formats.py`` where it reads or writes files.

Bundled connectors register through the ``expediter.connectors`` entry point, exactly as a third
party's would; :mod:`expediter.plugin.registry` loads them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import msgspec

from expediter.plugin.services import Services

if TYPE_CHECKING:
    from expediter.catalog.schema import Catalog, System
    from expediter.model.journal import JournalEntry
    from expediter.model.labor import Employee, TimePunch
    from expediter.model.location import Location
    from expediter.model.order import Order
    from expediter.model.payroll import PayrollPeriod
    from expediter.model.sales import ClosedDay
    from expediter.plugin.transport import Transport


class Capability(StrEnum):
    WEBHOOK = "webhook"
    """Receives the product's own webhooks at ``POST /api/v1/webhooks/{system}``."""
    PROCESS = "process"
    """Turns a raw stored message into canonical messages (e.g. fetch the order a webhook names)."""
    POLL = "poll"
    """Fetches on a schedule what webhooks may have missed."""
    SINK = "sink"
    """Delivers messages to the product (REST out, a screen, a printer)."""
    TRANSPORT = "transport"
    """Moves files (SFTP, FTP, a folder)."""
    EXPORT = "export"
    """Writes files from canonical data (CSV layouts, journals, payroll files)."""
    KITCHEN_SCREENS = "kitchen_screens"
    """Shows orders on the hub's own kitchen screens: the hub starts its kitchen service (in
    ``ctx.services``) when a system's connector offers this, and serves the screens from one process."""
    KITCHEN_SERVICE = "kitchen_service"
    """Delivers through the hub's kitchen service (``ctx.services``), as the kitchen printer does:
    with several hub processes, its lanes go only from the process that runs the kitchen."""


class IncomingMessage(msgspec.Struct, kw_only=True):
    """One unit about to enter the hub; the inbox stores it raw before anything else."""

    source_system: str
    kind: str
    """What it is, in the flows' ``data`` vocabulary: ``orders``, ``punches``, ``square.event``, ..."""
    idempotency_key: str
    """Vendor event id, or ``source:external id:version``: the same key twice is one message."""
    payload: bytes
    content_type: str = "application/json"
    location_id: str | None = None


class Outbound(msgspec.Struct, kw_only=True):
    """One delivery handed to a sink. ``delivery_key`` is stable across retries: sinks pass it on
    (as an idempotency key, a ticket id, a file name) so that a retry never acts twice."""

    delivery_id: int
    delivery_key: str
    message_id: int
    flow_id: str
    destination: str
    location_id: str | None
    kind: str
    payload: bytes
    content_type: str
    attempt: int


class Receipt(msgspec.Struct, kw_only=True):
    """What a sink reports back for the ledger."""

    records: int = 1
    bytes: int = 0
    remote_ref: str = ""
    """Where it went: a URL, a remote path, a printer address."""
    checksum: str = ""
    settled: Awaitable[Any] | None = None
    """The sink decided what it does but is still making it durable (the kitchen's write): the
    engine saves the delivery as delivered once this completes (as a transient failure when it
    fails), and hands over the lane's next delivery meanwhile. ``None``: done when returned."""


@runtime_checkable
class Sink(Protocol):
    async def deliver(self, item: Outbound) -> Receipt:
        """Deliver or raise ``TransientError`` / ``TerminalError`` (see :mod:`expediter.errors`)."""
        ...


@runtime_checkable
class WebhookReceiver(Protocol):
    def verify(self, headers: Mapping[str, str], body: bytes, url: str) -> None:
        """Raise ``SignatureInvalid`` when the request was not signed by the product."""
        ...

    def messages(self, headers: Mapping[str, str], body: bytes) -> list[IncomingMessage]:
        """The raw messages to store (usually one); ``RejectedInput`` for a malformed payload."""
        ...


class OutputFile(msgspec.Struct, kw_only=True):
    """A file an exporter produced, before a transport moves it."""

    name: str
    data: bytes
    records: int
    content_type: str = "text/csv"


@dataclass
class ExportRequest:
    """What a scheduled or manual export works on: one location, a range of business dates.

    ``orders`` and ``punches`` are called to stream the data, so a 1,000-location night never holds
    more than one location in memory.
    """

    catalog: Catalog
    location: Location
    start_date: date
    end_date: date
    orders: Callable[[], Iterable[Order]]
    punches: Callable[[], Iterable[TimePunch]]
    """The punches of the period and of the six days before it (weekly overtime needs the week)."""
    employees: Callable[[], Iterable[Employee]] = lambda: ()
    system: System | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    refunds: Callable[[], Iterable[Order]] = lambda: ()
    """Orders sold before ``start_date`` whose refunds fall in the request's dates: a refund is
    booked on its own business date, so the close of that date needs them (refunds only)."""
    notices: list[str] = field(default_factory=list)
    """What the exporter set aside for a person (e.g. pay held for someone to assign) while the
    rest of the files went: the engine raises an alert with them after the run."""
    journal: Callable[[], list[JournalEntry]] | None = None
    """The request's journal, one balanced entry per business date (or each night's correcting
    entry on a correction run), built by the engine from the books' rules; an accounting connector
    only renders it. Called when the file is written: a day held for an unmapped account raises."""
    payroll: Callable[[], PayrollPeriod] | None = None
    """The request's pay period, computed by the engine from the punches and the roster; a payroll
    connector only writes it in its provider's layout."""
    sales: Callable[[], list[ClosedDay]] | None = None
    """The request's closed business dates (sales summary and product mix), one per date, computed
    by the engine; a back-office file connector only writes them."""

    def business_dates(self) -> list[date]:
        """The request's business dates, ``start_date`` to ``end_date`` inclusive."""
        return [
            self.start_date + timedelta(days=n) for n in range((self.end_date - self.start_date).days + 1)
        ]


@runtime_checkable
class Exporter(Protocol):
    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        """Files for flow data kind ``data`` (``sales_summary``, ``journal``, ``payroll``, ...);
        ``RejectedInput`` / ``TerminalError`` when it cannot be produced as it is."""
        ...


@runtime_checkable
class Importer(Protocol):
    def read(self, data: str, payload: bytes) -> int:
        """Check an incoming file of flow data kind ``data``; how many records it holds.
        ``RejectedInput`` (naming row and column) sends the file to the failed folder."""
        ...


@runtime_checkable
class Processor(Protocol):
    async def process(self, item: Outbound) -> list[IncomingMessage]:
        """Derive canonical messages from a stored raw one; raise delivery errors to retry."""
        ...


class SignatureInvalid(Exception):
    """A webhook's signature did not verify; ``hint`` explains a likely cause (e.g. the URL)."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class SettingProblem(msgspec.Struct, frozen=True, kw_only=True):
    """Why a system cannot run with its settings, beyond what their type says (see
    :attr:`Connector.check`); ``expediter check`` reports it at ``settings.<key>``."""

    key: str
    """The setting, relative to the system's ``settings``: ``signature_key``, ``recipes``."""
    message: str
    fix: str


TRANSPORT_SETTINGS = "transport"


def own_settings(system: System) -> dict[str, Any]:
    """A system's settings for its own connector: everything but the ``transport`` table, which
    belongs to the transport (SFTP, folder) that moves the connector's files."""
    return {key: value for key, value in system.settings.items() if key != TRANSPORT_SETTINGS}


SettingsT = TypeVar("SettingsT", bound=msgspec.Struct)


def connector_settings(
    ctx: ConnectorContext, settings_type: type[SettingsT], *, strict: bool = True
) -> SettingsT:
    """``ctx.system``'s own settings as ``settings_type``; a ``ConfigError`` naming the system and the
    bad key (``systems[pos].settings: Expected `int`, got `str` - at `$.port```) otherwise."""
    from expediter.errors import ConfigError

    try:
        return msgspec.convert(own_settings(ctx.system), settings_type, strict=strict)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"systems[{ctx.system.id}].settings: {exc}") from None


@dataclass
class ConnectorContext:
    """What the engine hands a connector when it builds one for a system."""

    catalog: Catalog
    system: System
    services: Services = field(default_factory=Services)
    """Shared engine services (e.g. ``kitchen`` for the built-in KDS); connectors take what they
    need and fail clearly when it is missing."""


class TransportFactory(Protocol):
    def __call__(self, ctx: ConnectorContext, /, flow_id: str) -> Transport:
        """The transport for ``ctx.system``; ``flow_id`` is named in its errors."""
        ...


Poll = Callable[["ConnectorContext", datetime, datetime], Awaitable[list[IncomingMessage]]]
"""``async poll(ctx, window_start, window_end)``: what changed in the window."""


@dataclass(frozen=True)
class Connector:
    """A connector's declaration. Factories take a :class:`ConnectorContext`; ``None`` = not offered."""

    name: str
    title: str
    capabilities: frozenset[Capability]
    settings_type: type[msgspec.Struct] | None = None
    secret_settings: frozenset[str] = frozenset()
    make_sink: Callable[[ConnectorContext], Sink] | None = None
    make_webhook: Callable[[ConnectorContext], WebhookReceiver] | None = None
    make_processor: Callable[[ConnectorContext], Processor] | None = None
    make_transport: TransportFactory | None = None
    make_exporter: Callable[[ConnectorContext], Exporter] | None = None
    make_importer: Callable[[ConnectorContext], Importer] | None = None
    poll: Poll | None = None
    """``async poll(ctx, window_start, window_end) -> list[IncomingMessage]``: what changed in the
    window, with the same idempotency keys as the webhook path (the polling fallback)."""
    check: Callable[[ConnectorContext], list[SettingProblem]] | None = None
    """``check(ctx) -> list[SettingProblem]``: what a system needs to run that its settings' type
    cannot say (a secret it cannot work without, a file it reads, a URL, a key that is only a
    placeholder). ``expediter check`` reports each, so ``serve`` never starts without it. Called
    only on settings that already fit ``settings_type``."""
    reads: frozenset[str] = frozenset()
    """The flow data kinds whose files ``make_importer``'s importer reads (``inventory_counts``):
    ``expediter check`` refuses a flow bringing in files that no connector at either end reads.
    A connector with an importer that declares nothing is given the benefit of the doubt."""
    description: str = ""
    transports: frozenset[str] = frozenset()
    """The flow ``transport`` names whose files this connector moves (``sftp``; ``ftp`` and ``ftps``):
    the engine finds a flow's file transport by this, never by a connector's name."""
