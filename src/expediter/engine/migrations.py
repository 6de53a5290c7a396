"""Named schema migrations, applied once each, in order, and recorded in the ``migrations`` table.

Never edit a migration that has shipped: add a new one. DDL uses ``{id}``, ``{bigint}`` and
``{blob}`` for the words that differ between SQLite and PostgreSQL (see
:class:`~expediter.engine.storage.base.Dialect`).
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_messages",
        """
        CREATE TABLE messages (
            id {id},
            idempotency_key TEXT NOT NULL UNIQUE,
            source_system TEXT NOT NULL,
            kind TEXT NOT NULL,
            ref TEXT,
            location_id TEXT,
            business_date TEXT,
            received_at TEXT NOT NULL,
            content_type TEXT NOT NULL,
            payload {blob} NOT NULL
        );
        CREATE INDEX messages_by_ref ON messages (kind, ref);
        """,
    ),
    (
        "0002_deliveries",
        """
        CREATE TABLE deliveries (
            id {id},
            delivery_key TEXT NOT NULL UNIQUE,
            message_id {bigint} NOT NULL REFERENCES messages (id),
            flow_id TEXT NOT NULL,
            destination TEXT NOT NULL,
            location_id TEXT,
            lane TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX deliveries_by_lane ON deliveries (lane, state, id);
        CREATE INDEX deliveries_by_state ON deliveries (state, flow_id);
        """,
    ),
    (
        "0003_transfers",
        """
        CREATE TABLE transfers (
            id {id},
            flow_id TEXT NOT NULL,
            direction TEXT NOT NULL,
            level TEXT NOT NULL,
            transport TEXT NOT NULL,
            endpoint TEXT NOT NULL DEFAULT '',
            remote_ref TEXT NOT NULL DEFAULT '',
            file_name TEXT NOT NULL DEFAULT '',
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            duration_ms INTEGER NOT NULL,
            records INTEGER NOT NULL DEFAULT 0,
            bytes {bigint} NOT NULL DEFAULT 0,
            checksum TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL,
            error TEXT NOT NULL DEFAULT '',
            location_id TEXT,
            business_date TEXT,
            delivery_id {bigint},
            message_id {bigint}
        );
        CREATE INDEX transfers_by_flow ON transfers (flow_id, started_at);
        CREATE INDEX transfers_by_time ON transfers (started_at);
        """,
    ),
    (
        "0004_messages_by_day",
        """
        CREATE INDEX messages_by_day ON messages (kind, location_id, business_date);
        """,
    ),
    (
        "0005_transfer_totals",
        """
        CREATE TABLE transfer_totals (
            flow_id TEXT NOT NULL,
            outcome TEXT NOT NULL,
            transfers {bigint} NOT NULL,
            last_finished_at TEXT NOT NULL,
            PRIMARY KEY (flow_id, outcome)
        );
        INSERT INTO transfer_totals (flow_id, outcome, transfers, last_finished_at)
            SELECT flow_id, outcome, COUNT(*), MAX(finished_at) FROM transfers GROUP BY flow_id, outcome;
        """,
    ),
    (
        "0006_request_keys",
        # A sender's own key (HTTP Idempotency-Key) beside the message it brought; keyed messages
        # stored before this kept the key as their idempotency key, and are found by it again.
        """
        CREATE TABLE request_keys (
            request_key TEXT PRIMARY KEY,
            message_id {bigint} NOT NULL REFERENCES messages (id)
        );
        INSERT INTO request_keys (request_key, message_id)
            SELECT idempotency_key, id FROM messages WHERE idempotency_key LIKE '%:key:%';
        """,
    ),
]


def split_statements(script: str) -> list[str]:
    """One migration may hold several statements; drivers run one at a time."""
    return [part.strip() for part in script.split(";") if part.strip()]
