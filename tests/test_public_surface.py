"""The package exports a short, deliberate list; adding to it is a decision, so this test must change."""

import expediter


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
