"""The Prometheus metrics of the hub, in a registry of their own (so tests and two hubs never clash).

The engine increments these; ``/metrics`` exposes them. Labels are flow, system and outcome ids from
the catalog (a bounded set), never message contents.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.messages_accepted = Counter(
            "expediter_messages_accepted",
            "Messages stored by the inbox, by source system and kind.",
            ["source", "kind"],
            registry=self.registry,
        )
        self.messages_duplicate = Counter(
            "expediter_messages_duplicate",
            "Messages refused as duplicates of one already stored.",
            ["source", "kind"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "expediter_deliveries",
            "Delivery attempts by flow and outcome (delivered, retrying, dead).",
            ["flow", "outcome"],
            registry=self.registry,
        )
        self.transfers = Counter(
            "expediter_transfers",
            "Transfers recorded in the ledger, by flow and outcome.",
            ["flow", "outcome"],
            registry=self.registry,
        )
        self.deliveries_pending = Gauge(
            "expediter_deliveries_pending",
            "Deliveries waiting to be sent, by destination system.",
            ["destination"],
            registry=self.registry,
        )
        self.dead_letters = Gauge(
            "expediter_dead_letters", "Dead letters waiting for a person.", registry=self.registry
        )
        self.alerts_firing = Gauge(
            "expediter_alerts_firing", "Alerts currently firing.", registry=self.registry
        )

    def exposition(self) -> tuple[bytes, str]:
        """The text format body and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


METRICS = Metrics()
"""The process's metrics; a hub may carry its own ``Metrics()`` as ``hub.metrics`` instead."""
