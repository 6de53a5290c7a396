"""The connector contract: everything a connector's author needs, in one place.

A connector imports from here (and from :mod:`expediter.model` for the canonical data) and from
nowhere else in the hub: the declaration (:class:`Connector`, :class:`Capability`), the parts a
connector offers (:class:`Sink`, :class:`WebhookReceiver`, :class:`Processor`, :class:`Exporter`,
:class:`Importer`, :class:`Transport`), what the engine hands them, decoding a system's settings
(:func:`connector_settings`, the one way), resolving secret references (:func:`resolve_secret`),
checksums (:func:`sha256_hex`), and the errors that decide retries. ``docs/connectors.md`` is the
guide; ``tests/test_public_surface.py`` locks ``__all__``.

Errors (the type decides what the engine does)::

    ExpediterError
    ├── RejectedInput        quarantine the input, tell the sender
    ├── ConfigError          the catalog or a setting is wrong (SecretUnavailable: a reference)
    └── DeliveryError
        ├── TransientError   retry with backoff
        └── TerminalError    dead-letter now
    SignatureInvalid         a webhook not signed by the product (HTTP 401)

A plugin package is a ground-floor package: it imports only :mod:`expediter.model`,
:mod:`expediter.errors` and the catalog's declarations, never the engine or another connector.
"""

from expediter.catalog.paths import catalog_folder, data_dir
from expediter.catalog.secrets import SecretUnavailable, looks_secret, resolve_secret
from expediter.errors import (
    ConfigError,
    DeliveryError,
    ExpediterError,
    RejectedInput,
    TerminalError,
    TransientError,
    error_for_status,
)
from expediter.plugin.base import (
    TRANSPORT_SETTINGS,
    Capability,
    Connector,
    ConnectorContext,
    Exporter,
    ExportRequest,
    Importer,
    IncomingMessage,
    Outbound,
    OutputFile,
    Processor,
    Receipt,
    SettingProblem,
    SignatureInvalid,
    Sink,
    WebhookReceiver,
    connector_settings,
    own_settings,
)
from expediter.plugin.registry import ENTRY_POINT_GROUP
from expediter.plugin.services import (
    AvailabilityService,
    KitchenService,
    OrderVersionsService,
    PrintedTickets,
    Services,
)
from expediter.plugin.transport import (
    FetchedFile,
    RemoteFile,
    SeenStore,
    Transport,
    check_file_name,
    check_listed_name,
    is_stale_temp_file,
    matches,
    receipt_for,
    sha256_hex,
    temp_name,
    unique_done_name,
    where,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "TRANSPORT_SETTINGS",
    "AvailabilityService",
    "Capability",
    "ConfigError",
    "Connector",
    "ConnectorContext",
    "DeliveryError",
    "ExpediterError",
    "ExportRequest",
    "Exporter",
    "FetchedFile",
    "Importer",
    "IncomingMessage",
    "KitchenService",
    "OrderVersionsService",
    "Outbound",
    "OutputFile",
    "PrintedTickets",
    "Processor",
    "Receipt",
    "RejectedInput",
    "RemoteFile",
    "SecretUnavailable",
    "SeenStore",
    "Services",
    "SettingProblem",
    "SignatureInvalid",
    "Sink",
    "TerminalError",
    "TransientError",
    "Transport",
    "WebhookReceiver",
    "catalog_folder",
    "check_file_name",
    "check_listed_name",
    "connector_settings",
    "data_dir",
    "error_for_status",
    "is_stale_temp_file",
    "looks_secret",
    "matches",
    "own_settings",
    "receipt_for",
    "resolve_secret",
    "sha256_hex",
    "temp_name",
    "unique_done_name",
    "where",
]
