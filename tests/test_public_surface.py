"""The package and the connector contract export short, deliberate lists; adding to one is a decision,
so this test must change."""

import expediter
import expediter.plugin


def test_public_surface_is_locked() -> None:
    assert sorted(expediter.__all__) == [
        "Capability",
        "Connector",
        "ConnectorContext",
        "IncomingMessage",
        "Money",
        "Order",
        "Outbound",
        "Receipt",
        "RejectedInput",
        "TerminalError",
        "TransientError",
        "__version__",
    ]
    for name in expediter.__all__:
        assert hasattr(expediter, name), name


def test_plugin_surface_is_locked() -> None:
    """``expediter.plugin`` is what connector authors build on (docs/connectors.md): changing it
    changes every third-party connector, so this test must change with it."""
    assert sorted(expediter.plugin.__all__) == [
        "AvailabilityService",
        "Capability",
        "ConfigError",
        "Connector",
        "ConnectorContext",
        "DeliveryError",
        "ENTRY_POINT_GROUP",
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
        "TRANSPORT_SETTINGS",
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
    for name in expediter.plugin.__all__:
        assert hasattr(expediter.plugin, name), name
