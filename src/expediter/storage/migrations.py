"""Named schema migrations, applied once each, in order, and recorded in the ``migrations`` table.

Never edit a migration that has shipped: add a new one. DDL uses ``{id}``, ``{bigint}``,
``{blob}`` and ``{random_id}`` for the words that differ between SQLite and PostgreSQL (see
:class:`~expediter.storage.base.Dialect`).
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
        # A random identity per database: delivery keys derive from it and from each message's own
        # idempotency key (see expediter.engine.router.delivery_key), so two hubs never hand a
        # receiver the same key for different messages. Existing deliveries keep their keys.
        "0006_hub_identity",
        """
        CREATE TABLE hub_identity (id TEXT NOT NULL);
        INSERT INTO hub_identity (id) VALUES ({random_id});
        """,
    ),
    (
        "0007_vendors",
        """
        CREATE TABLE x12_control_numbers (
            partner TEXT PRIMARY KEY,
            last_number {bigint} NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE purchase_orders (
            po_number TEXT PRIMARY KEY,
            vendor TEXT NOT NULL,
            location_id TEXT NOT NULL,
            order_date TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            payload {blob} NOT NULL
        );
        CREATE TABLE po_acknowledgements (
            id {id},
            po_number TEXT NOT NULL,
            vendor TEXT NOT NULL,
            received_at TEXT NOT NULL,
            payload {blob} NOT NULL
        );
        CREATE INDEX po_acknowledgements_by_po ON po_acknowledgements (po_number, id);
        CREATE TABLE po_receipts (
            po_number TEXT NOT NULL,
            line_number TEXT NOT NULL,
            quantity TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (po_number, line_number)
        );
        CREATE TABLE vendor_invoices (
            id {id},
            vendor TEXT NOT NULL,
            invoice_number TEXT NOT NULL,
            kind TEXT NOT NULL,
            po_number TEXT NOT NULL,
            state TEXT NOT NULL,
            received_at TEXT NOT NULL,
            booked_at TEXT,
            source TEXT NOT NULL DEFAULT '',
            payload {blob} NOT NULL,
            UNIQUE (vendor, invoice_number, kind)
        );
        CREATE TABLE invoice_exceptions (
            id {id},
            invoice_id {bigint} NOT NULL REFERENCES vendor_invoices (id),
            kind TEXT NOT NULL,
            line_number TEXT NOT NULL,
            po_line TEXT NOT NULL,
            message TEXT NOT NULL,
            amount {bigint} NOT NULL,
            currency TEXT NOT NULL,
            state TEXT NOT NULL,
            resolution TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            resolved_at TEXT
        );
        CREATE INDEX invoice_exceptions_by_state ON invoice_exceptions (state, invoice_id);
        CREATE TABLE ap_bills (
            vendor TEXT NOT NULL,
            bill_number TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            payload {blob} NOT NULL,
            PRIMARY KEY (vendor, bill_number, kind)
        );
        CREATE TABLE ingredient_costs (
            ingredient TEXT PRIMARY KEY,
            unit TEXT NOT NULL,
            unit_cost TEXT NOT NULL,
            currency TEXT NOT NULL,
            vendor TEXT NOT NULL,
            invoice_number TEXT NOT NULL,
            invoice_date TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
    ),
    (
        "0008_flows_watched",
        """
        CREATE TABLE flows_watched (
            flow_id TEXT PRIMARY KEY,
            since TEXT NOT NULL
        );
        """,
    ),
    (
        "0009_alerts_open",
        """
        CREATE TABLE alerts_open (
            rule_id TEXT NOT NULL,
            flow_id TEXT NOT NULL,
            location_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL,
            message TEXT NOT NULL,
            started_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            count {bigint} NOT NULL,
            PRIMARY KEY (rule_id, flow_id, location_id)
        );
        """,
    ),
    (
        "0010_deliveries_hold_lanes",
        """
        ALTER TABLE deliveries ADD COLUMN holds_lane INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE deliveries ADD COLUMN retrying_since TEXT;
        """,
    ),
    (
        "0011_metric_counters",
        """
        CREATE TABLE metric_counters (
            name TEXT NOT NULL,
            labels TEXT NOT NULL,
            value {bigint} NOT NULL,
            PRIMARY KEY (name, labels)
        );
        """,
    ),
    (
        "0012_request_keys",
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
    (
        # People who sign in (argon2 hashes only), their sessions (only a hash of the cookie's
        # random id is kept), paired kitchen devices and their pairing codes, and the audit log.
        "0013_people",
        """
        CREATE TABLE users (
            id {id},
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            locations TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            password_changed_at TEXT NOT NULL
        );
        CREATE TABLE sessions (
            id_hash TEXT PRIMARY KEY,
            user_id {bigint} NOT NULL REFERENCES users (id),
            csrf TEXT NOT NULL,
            created_at TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX sessions_by_user ON sessions (user_id);
        CREATE TABLE devices (
            id {id},
            name TEXT NOT NULL,
            location_id TEXT NOT NULL,
            stations TEXT NOT NULL,
            credential_hash TEXT NOT NULL UNIQUE,
            csrf TEXT NOT NULL,
            paired_by TEXT NOT NULL,
            paired_at TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT '',
            revoked_at TEXT,
            revoked_by TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE pairing_requests (
            code TEXT PRIMARY KEY,
            claim_hash TEXT NOT NULL UNIQUE,
            station TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT '',
            requested_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            approved_by TEXT NOT NULL DEFAULT '',
            approved_at TEXT,
            name TEXT NOT NULL DEFAULT '',
            location_id TEXT NOT NULL DEFAULT '',
            stations TEXT NOT NULL DEFAULT '[]',
            device_id {bigint}
        );
        CREATE TABLE audit_log (
            id {id},
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            actor_kind TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT '',
            location_id TEXT
        );
        CREATE INDEX audit_by_time ON audit_log (at);
        CREATE INDEX audit_by_actor ON audit_log (actor, action, at)
        """,
    ),
    (
        # Manual imports: each file's rows are staged here while they are checked; a commit flips
        # the import's state in one transaction. Committed price lists keep their rows here.
        "0014_imports",
        """
        CREATE TABLE imports (
            id {id},
            flow_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            location_id TEXT,
            business_date TEXT,
            file_name TEXT NOT NULL,
            checksum TEXT NOT NULL DEFAULT '',
            bytes {bigint} NOT NULL DEFAULT 0,
            encoding TEXT NOT NULL DEFAULT '',
            delimiter TEXT NOT NULL DEFAULT '',
            header TEXT NOT NULL DEFAULT '[]',
            unknown_columns TEXT NOT NULL DEFAULT '[]',
            continues INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL,
            rows_read {bigint} NOT NULL DEFAULT 0,
            rows_good {bigint} NOT NULL DEFAULT 0,
            rows_bad {bigint} NOT NULL DEFAULT 0,
            error TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            committed_at TEXT
        );
        CREATE INDEX imports_by_flow ON imports (flow_id, state, id);
        CREATE TABLE import_rows (
            import_id {bigint} NOT NULL,
            row_number {bigint} NOT NULL,
            key TEXT NOT NULL DEFAULT '',
            record {blob},
            cells TEXT NOT NULL,
            problems TEXT,
            PRIMARY KEY (import_id, row_number)
        );
        CREATE INDEX import_rows_by_key ON import_rows (import_id, key)
        """,
    ),
    (
        # Schema drift: the shape each inbound stream has sent (its fields, their types, which
        # are always present), each change seen, and what a flow's policy set aside for it.
        "0015_drift",
        """
        CREATE TABLE drift_streams (
            stream TEXT PRIMARY KEY,
            source_system TEXT NOT NULL,
            kind TEXT NOT NULL,
            messages {bigint} NOT NULL DEFAULT 0,
            learning INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE drift_fields (
            stream TEXT NOT NULL,
            path TEXT NOT NULL,
            types TEXT NOT NULL,
            required INTEGER NOT NULL,
            first_seen_at TEXT NOT NULL,
            PRIMARY KEY (stream, path)
        );
        CREATE TABLE drifts (
            id {id},
            stream TEXT NOT NULL,
            path TEXT NOT NULL,
            change TEXT NOT NULL,
            known_types TEXT NOT NULL DEFAULT '',
            seen_type TEXT NOT NULL DEFAULT '',
            example TEXT NOT NULL DEFAULT '',
            first_message_id {bigint},
            state TEXT NOT NULL,
            seen {bigint} NOT NULL DEFAULT 1,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            accepted_at TEXT,
            UNIQUE (stream, path, change, seen_type)
        );
        CREATE INDEX drifts_by_state ON drifts (state, stream);
        CREATE TABLE drift_messages (
            drift_id {bigint} NOT NULL,
            message_id {bigint} NOT NULL,
            PRIMARY KEY (drift_id, message_id)
        );
        CREATE INDEX drift_messages_by_message ON drift_messages (message_id);
        CREATE TABLE drift_files (
            id {id},
            flow_id TEXT NOT NULL,
            file_name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            state TEXT NOT NULL,
            received_at TEXT NOT NULL,
            released_at TEXT,
            payload {blob} NOT NULL
        );
        CREATE TABLE drift_file_links (
            drift_id {bigint} NOT NULL,
            file_id {bigint} NOT NULL,
            PRIMARY KEY (drift_id, file_id)
        )
        """,
    ),
    (
        # Every alert is kept (the flow page's history), with who acknowledged it and each channel
        # it was sent to; an open alert carries its de-duplication key in open_key (NULL once
        # resolved), which replaces the table of open alerts.
        "0016_alert_history",
        """
        CREATE TABLE alerts (
            id {id},
            open_key TEXT UNIQUE,
            rule_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL,
            flow_id TEXT NOT NULL,
            location_id TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            message TEXT NOT NULL,
            state TEXT NOT NULL,
            started_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            count {bigint} NOT NULL,
            at_risk TEXT NOT NULL DEFAULT '',
            acknowledged_at TEXT,
            acknowledged_by TEXT NOT NULL DEFAULT '',
            notified_at TEXT,
            escalated_at TEXT,
            resolved_at TEXT
        );
        CREATE INDEX alerts_by_flow ON alerts (flow_id, started_at);
        INSERT INTO alerts (open_key, rule_id, kind, severity, flow_id, location_id, message, state,
                started_at, last_seen_at, count, notified_at)
            SELECT rule_id || '|' || flow_id || '|' || location_id || '|', rule_id, kind, severity,
                flow_id, location_id, message, 'firing', started_at, last_seen_at, count, started_at
            FROM alerts_open;
        DROP TABLE alerts_open;
        CREATE TABLE alert_notifications (
            id {id},
            alert_id {bigint} NOT NULL REFERENCES alerts (id),
            channel TEXT NOT NULL,
            event TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            error TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX alert_notifications_by_alert ON alert_notifications (alert_id, id);
        CREATE TABLE drills (
            id {id},
            flow_id TEXT NOT NULL,
            state TEXT NOT NULL,
            phase TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            reason TEXT NOT NULL DEFAULT '',
            steps TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX drills_by_flow ON drills (flow_id, id);
        """,
    ),
    (
        # Lineage: which messages each transfer carried (a delivery, a file, a poll, a processing
        # step), written in the transfer's own transaction, so an order's journey is a lookup.
        # transfer_inputs keeps, per file transfer, a digest of the inputs it was built from: a
        # night whose inputs changed after it went out is found by comparing digests.
        "0017_lineage",
        """
        CREATE TABLE lineage (
            message_id {bigint} NOT NULL,
            transfer_id {bigint} NOT NULL,
            delivery_id {bigint},
            role TEXT NOT NULL,
            PRIMARY KEY (message_id, transfer_id)
        );
        CREATE INDEX lineage_by_transfer ON lineage (transfer_id);
        CREATE TABLE transfer_inputs (
            transfer_id {bigint} PRIMARY KEY,
            digest TEXT NOT NULL,
            inputs INTEGER NOT NULL,
            as_of {bigint} NOT NULL
        )
        """,
    ),
    (
        # One row per location, business date and reconciliation check: the latest result.
        "0018_reconciliations",
        """
        CREATE TABLE reconciliations (
            location_id TEXT NOT NULL,
            business_date TEXT NOT NULL,
            check_name TEXT NOT NULL,
            state TEXT NOT NULL,
            flow_id TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL,
            details {blob} NOT NULL,
            checked_at TEXT NOT NULL,
            differs_since TEXT,
            PRIMARY KEY (location_id, business_date, check_name)
        );
        CREATE INDEX reconciliations_by_state ON reconciliations (state, location_id, business_date)
        """,
    ),
    (
        # The kitchen's tickets, orders seen, 86 list, per-station event log and printed tickets
        # (they were a kitchen.db file of their own before).
        "0019_kitchen_store",
        """
        CREATE TABLE kitchen_orders (
            order_id TEXT PRIMARY KEY,
            location_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            fired_courses TEXT NOT NULL,
            payload {blob} NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE kitchen_tickets (
            id {id},
            ticket_id TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL,
            station TEXT NOT NULL,
            state TEXT NOT NULL,
            payload {blob} NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX kitchen_tickets_station ON kitchen_tickets (station, state, updated_at);
        CREATE INDEX kitchen_tickets_order ON kitchen_tickets (order_id);
        CREATE TABLE kitchen_events (
            station TEXT NOT NULL,
            seq {bigint} NOT NULL,
            kind TEXT NOT NULL,
            payload {blob} NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (station, seq)
        );
        CREATE TABLE kitchen_availability (
            location_id TEXT NOT NULL,
            item_key TEXT NOT NULL,
            available INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (location_id, item_key)
        );
        CREATE TABLE kitchen_printed (
            printer TEXT NOT NULL,
            order_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            items {blob} NOT NULL,
            printed_at TEXT NOT NULL,
            PRIMARY KEY (printer, order_id)
        )
        """,
    ),
    (
        # Side files of older installs (kitchen.db, ...) copied in once: see
        # expediter.storage.side_files.
        "0020_imported_side_files",
        """
        CREATE TABLE imported_files (
            name TEXT PRIMARY KEY,
            rows_copied {bigint} NOT NULL,
            imported_at TEXT NOT NULL
        )
        """,
    ),
    (
        # The checksums of incoming files already processed, per flow or system (they were a
        # seen-files.db file of their own before).
        "0021_seen_files",
        """
        CREATE TABLE seen_files (
            scope TEXT NOT NULL,
            checksum TEXT NOT NULL,
            name TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (scope, checksum)
        )
        """,
    ),
    (
        # Journal entries held back for a missing account mapping (they were a journal-queue.db
        # file of their own before).
        "0022_journal_queue",
        """
        CREATE TABLE journal_queue (
            document_number TEXT PRIMARY KEY,
            location_id TEXT NOT NULL,
            business_date TEXT NOT NULL,
            state TEXT NOT NULL,
            held_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            body {blob} NOT NULL
        );
        CREATE INDEX journal_queue_by_state ON journal_queue (state, business_date)
        """,
    ),
    (
        # Pay held for a person to assign (they were a payroll-holds.db file of their own before).
        "0023_payroll_holds",
        """
        CREATE TABLE payroll_holds (
            id TEXT PRIMARY KEY,
            location_id TEXT NOT NULL,
            state TEXT NOT NULL,
            body {blob} NOT NULL
        )
        """,
    ),
    (
        # PostgreSQL: which hub process delivers each lane, until when (see engine/lane_claims.py).
        "0024_hub_lane_leases",
        """
        CREATE TABLE lane_leases (
            lane TEXT PRIMARY KEY,
            owner TEXT NOT NULL DEFAULT '',
            lease_until {bigint} NOT NULL DEFAULT 0
        )
        """,
    ),
    (
        # One row per running `expediter serve` process, its heartbeat and the parts it holds.
        "0025_hub_processes",
        """
        CREATE TABLE hub_processes (
            id TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT '',
            version TEXT NOT NULL DEFAULT ''
        )
        """,
    ),
    (
        # The bus (NATS JetStream, docs/scale-out.md). outbox: each publication the hub owes the
        # bus, written in the same transaction as what it publishes; a message's payload is read
        # from messages (payload NULL), an event of the hub's own carries it. bus_inbox: each bus
        # message a consumer applied, written in the same transaction as its effect.
        "0026_bus_outbox",
        """
        CREATE TABLE outbox (
            id {id},
            msg_id TEXT NOT NULL UNIQUE,
            message_id {bigint},
            stream TEXT NOT NULL,
            subject TEXT NOT NULL,
            payload {blob},
            created_at TEXT NOT NULL,
            published_at TEXT,
            stream_seq {bigint}
        );
        CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
        CREATE TABLE bus_inbox (
            consumer TEXT NOT NULL,
            msg_id TEXT NOT NULL,
            stream_seq {bigint},
            applied_at TEXT NOT NULL,
            PRIMARY KEY (consumer, msg_id)
        )
        """,
    ),
    (
        # A restaurant edge's transfers as the group's ledger holds them (docs/edge.md): the
        # edge's publication id of each, so that a redelivery records nothing new.
        "0027_edge_transfers",
        """
        CREATE TABLE edge_transfers (
            msg_id TEXT PRIMARY KEY,
            location_id TEXT NOT NULL,
            transfer_id {bigint} NOT NULL REFERENCES transfers (id)
        )
        """,
    ),
]


def split_statements(script: str) -> list[str]:
    """One migration may hold several statements; drivers run one at a time."""
    return [part.strip() for part in script.split(";") if part.strip()]
