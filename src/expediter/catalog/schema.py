"""The catalog: every location, system and flow of a restaurant group, as declared in ``expediter.toml``.

The types here are the whole schema; msgspec decodes the TOML into them and its errors carry the path
(``$.flows[3].owner``). Cross-references and semantics (unknown systems, bad cron, time zones,
secrets) are checked in :mod:`expediter.check.catalog`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec

from expediter.model.location import Location


class SystemKind(StrEnum):
    POS = "pos"
    KDS = "kds"
    BACK_OFFICE = "back_office"
    INVENTORY = "inventory"
    ACCOUNTING = "accounting"
    PAYROLL = "payroll"
    VENDOR = "vendor"
    ONLINE_ORDERING = "online_ordering"
    PRINTER = "printer"


class Level(StrEnum):
    MANUAL = "manual"
    FILE = "file"
    REALTIME = "realtime"


class Trigger(StrEnum):
    EVENT = "event"
    """Each message that arrives from the source system."""
    SCHEDULE = "schedule"
    """A cron schedule in each location's time zone."""
    FILE_ARRIVAL = "file_arrival"
    """A file appearing on a transport (SFTP folder, watched folder)."""
    MANUAL = "manual"
    """A person, from the CLI or the dashboard."""


class CatchUp(StrEnum):
    """What a scheduled flow does about runs missed while the hub was down."""

    RUN_MISSED = "run_missed"
    SKIP_MISSED = "skip_missed"


class DriftPolicy(StrEnum):
    """What a flow does with a message (or file) whose shape changed (see docs/drift.md)."""

    ACCEPT = "accept"
    """Deliver it, record the change, warn once."""
    HOLD = "hold"
    """Keep it, deliver it once a person accepts the change or releases it."""
    QUARANTINE = "quarantine"
    """Keep it aside (a file goes to the failed folder); only a person's release delivers it."""


class HealPolicy(StrEnum):
    """What the hub does with a night whose inputs changed after its files went out (the flow's
    ``settings.heal``); a night whose files never went out is run under ``resend`` and
    ``correction`` alike."""

    RESEND = "resend"
    """Run the night again: its files replace the ones sent (same names, same document numbers)."""
    CORRECTION = "correction"
    """Send a correction: for a journal, an entry of the differences (``DS-...-C1``); other files
    again in full under a correction name, the originals left as they are."""
    ASK = "ask"
    """Send nothing; alert the flow's owner, who re-runs the night (``expediter run``) when ready."""


HEAL_SETTING = "heal"


def heal_policy(flow: Flow) -> HealPolicy:
    """The flow's ``settings.heal`` (``resend`` by default); ``ValueError`` for another word."""
    return HealPolicy(flow.settings.get(HEAL_SETTING, HealPolicy.RESEND))


class System(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An external (or built-in) system, used through a connector."""

    id: str
    kind: SystemKind
    connector: str
    owner: str
    contact: str = ""
    locations: list[str] = []
    """Location ids this system serves; empty means every location."""
    settings: dict[str, Any] = {}
    """Connector settings; values that are secrets are references (``env:NAME`` or ``file:PATH``)."""
    description: str = ""
    offline_minutes: int = 5
    """A kitchen system's station with no screen connected, or a printer whose deliveries keep
    failing, for this long fires an ``offline`` alert (0: never)."""


class Flow(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename={"from_": "from"}):
    """A documented connection from one system to another."""

    id: str
    from_: str
    to: str
    data: str
    """What moves: ``orders``, ``tickets``, ``ticket_status``, ``sales_summary``, ``journal``, ..."""
    level: Level
    trigger: Trigger
    owner: str
    contact: str = ""
    """How to reach the owner: an e-mail address, a phone number, or the id of an
    ``[[alert_channels]]`` entry (which then hears this flow's alerts too)."""
    description: str = ""
    impact: str = ""
    """What breaks for the restaurant when this flow stops, in plain words."""
    schedule: str | None = None
    """Cron expression, evaluated in each location's time zone (``trigger = "schedule"``)."""
    transport: str = "http"
    """``http``, ``sse``, ``sftp``, ``ftp``, ``ftps``, ``folder``, ``email``, ``tcp9100``, ``upload``."""
    format: str = "json"
    expected_by: str | None = None
    """Local ``HH:MM`` by which a scheduled run must have succeeded, else a lateness alert."""
    freshness_minutes: int | None = None
    """For event flows: alert when nothing moved for this long during opening hours."""
    alert_route: str = "default"
    retry_hours: float = 72.0
    """How long a delivery that keeps failing is retried (backoff capped at a minute) before it
    becomes a dead letter: long enough to ride out a real outage (Square retries webhooks 72 h)."""
    retry_limit: int | None = None
    """At most this many retries, if set (whichever of the two comes first)."""
    ordered: bool = True
    """Deliveries keep their lane's order: a dead letter holds the later deliveries to the same
    destination and location until it is replayed. ``false``: a dead letter is set aside."""
    catch_up: CatchUp = CatchUp.RUN_MISSED
    drift: DriftPolicy = DriftPolicy.ACCEPT
    """What to do with what arrives in another shape than the flow's source sent so far."""
    enabled: bool = True
    settings: dict[str, Any] = {}
    volume_weeks: int = 4
    """An event flow's message count of the last hour is held against the same hour of the same
    weekday over this many weeks, per location (0: not watched)."""
    drill_schedule: str | None = None
    """Cron expression (the first location's time zone): when the hub runs ``expediter drill`` on
    this flow by itself."""


class ApiToken(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A bearer token for the HTTP API, stored as ``sha256:<hex>`` of the token, never the token."""

    name: str
    sha256: str
    systems: list[str] = []
    """Systems this token may post as; empty means any."""
    locations: list[str] = []
    """Locations this token may send orders, punches and employees for; empty means every one."""


class AlertChannel(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    kind: str
    """``log``, ``email``, ``webhook``, ``slack``."""
    target: str = ""
    """E-mail: the recipients (``contact`` stands for the alerting flow's contact address);
    webhook and Slack: the URL, best as a secret reference (``env:NAME`` / ``file:PATH``)."""
    settings: dict[str, Any] = {}


class AlertRoute(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    channels: list[str]
    repeat_minutes: int = 60
    """A firing alert nobody acknowledged is sent again this often (0: once)."""
    escalate_to: list[str] = []
    """Channels of the second contact, told when nobody acknowledges in time."""
    escalate_after_minutes: int = 30


class AccountType(StrEnum):
    """What an account is in the chart of accounts: decides where a line lands (beancount's root,
    whether auto-gratuity is owed to staff or earned)."""

    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


class Mappings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Lookup tables the restaurant logic needs; keys are the POS's names, values account codes etc."""

    category_accounts: dict[str, str] = {}
    discount_accounts: dict[str, str] = {}
    tender_accounts: dict[str, str] = {}
    accounts: dict[str, str] = {}
    """Fixed accounts: ``sales_tax``, ``tips_payable``, ``service_charges``, ``auto_gratuity``
    (optional), ``gift_cards``, ``cash_over_short``, ``comps``, ``refunds``, ``unpaid_checks``."""
    account_types: dict[str, AccountType] = {}
    """Account (as mapped above) → its type in the chart of accounts; required for an
    ``auto_gratuity`` account of its own, which may be a liability (owed to staff) or income."""
    plu_recipes: dict[str, str] = {}
    job_earning_codes: dict[str, str] = {}
    stations: dict[str, list[str]] = {}
    """Category → kitchen stations, for items whose menu entry names none."""
    plu_stations: dict[str, list[str]] = {}
    """PLU → kitchen stations: routes items from systems that send no category (online orders);
    checked after the line's own stations and before ``stations``."""


class Bus(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[hub.bus]``: the NATS JetStream cluster that carries the group's events between hub
    processes (PostgreSQL holds the record, NATS carries it; see docs/scale-out.md)."""

    url: str | list[str] = ""
    """The cluster's servers: a list, or one comma-separated string (``nats://a:4222,nats://b:4222``);
    a whole value may be a secret reference (``env:EXPEDITER_NATS_URL``), and a URL's password one
    (``nats://hub:env:NATS_PASSWORD@a:4222``)."""
    token: str = ""
    """An authentication token, as a secret reference (``env:NAME`` or ``file:PATH``)."""
    replicas: int = 3
    """Copies of each stream the cluster keeps (1 for a single server, 3 for a cluster of three)."""
    stream_prefix: str = ""
    """Put before each stream's name (``ACME_`` → ``ACME_MESSAGES``) when groups share a cluster."""
    subject_prefix: str = "expediter"
    """The first token of every subject the hub publishes (``expediter.orders.<location>``)."""
    duplicate_window: float = 120.0
    """Seconds the servers remember a message id to drop a second publication of it."""


class Hub(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    database: str = "expediter.db"
    """A SQLite file path, or a ``postgresql://`` URL (the password as a secret reference)."""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    """How systems outside reach the hub (used to verify webhook signatures that sign the URL)."""
    data_dir: str = "data"
    allowed_hosts: list[str] = []
    """Host names the hub answers to (``Host`` header); empty: localhost, 127.0.0.1 and ::1. The
    host of ``public_url`` is always allowed. Any other name is refused (no DNS rebinding)."""
    secure_cookies: bool | None = None
    """Send the sign-in and device cookies only over https; unset: when ``public_url`` is https."""
    takeover_seconds: float = 5.0
    """PostgreSQL: how often a standby hub process asks for the parts that run once (scheduler,
    alert watch, kitchen, reconciliation), and how often every process writes its heartbeat."""
    lane_lease_seconds: float = 10.0
    """PostgreSQL: how long a lane stays with a hub process that stopped renewing it (died)."""
    statement_timeout_ms: int = 30_000
    """PostgreSQL: the longest one SQL statement may run before the server cancels it."""
    bus: Bus | None = None
    """The message bus (NATS JetStream) of a scaled-out group; unset: one hub, no bus."""


class Edge(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[edge]``: this hub runs in one restaurant and is joined to the group hub through a NATS
    leaf node (see docs/edge.md). Its kitchen never waits on that link."""

    location: str
    """The catalog location this restaurant is; its JetStream domain is ``edge-<location>``."""
    group_url: str
    """The group's leaf node address, ``nats-leaf://host:7422`` (``tls://`` for TLS)."""
    group_token: str = ""
    """A secret reference (``env:NAME``, ``file:PATH``) to the token the group's leaf port asks for."""
    group_domain: str = "group"
    """The group's JetStream domain."""
    nats_dir: str = "nats"
    """Where the restaurant's own NATS server keeps its configuration and streams (beside the
    catalog when relative)."""
    nats_port: int = 0
    """The local NATS server's client port on loopback; 0: any free port."""
    heartbeat_seconds: float = 5.0
    """How often the restaurant tells the group it is there (and how far it has relayed)."""


class GroupEdges(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[group_edges]``: the group hub watches its restaurants' edges on the group's NATS server."""

    nats_url: str
    """The group's NATS client URL (``nats://host:4222``)."""
    locations: list[str] = []
    """The locations that run an edge; empty: every location of the catalog."""
    domain: str = "group"
    """The group's JetStream domain."""
    offline_after_seconds: float = 15.0
    """A restaurant unheard of for this long is shown offline (three of its heartbeats)."""


class Catalog(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    hub: Hub = msgspec.field(default_factory=Hub)
    edge: Edge | None = None
    group_edges: GroupEdges | None = None
    locations: list[Location] = []
    systems: list[System] = []
    flows: list[Flow] = []
    api_tokens: list[ApiToken] = []
    alert_channels: list[AlertChannel] = []
    alert_routes: list[AlertRoute] = []
    mappings: Mappings = msgspec.field(default_factory=Mappings)

    def system(self, system_id: str) -> System | None:
        return next((s for s in self.systems if s.id == system_id), None)

    def flow(self, flow_id: str) -> Flow | None:
        return next((f for f in self.flows if f.id == flow_id), None)

    def location(self, location_id: str) -> Location | None:
        return next((loc for loc in self.locations if loc.id == location_id), None)

    def flows_from(self, system_id: str, data: str | None = None) -> list[Flow]:
        return [
            f for f in self.flows if f.from_ == system_id and f.enabled and (data is None or f.data == data)
        ]
