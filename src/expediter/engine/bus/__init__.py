"""The group's message bus: NATS JetStream carrying what PostgreSQL records.

Several ``expediter serve`` processes share one PostgreSQL database and one NATS JetStream cluster
(``[hub.bus]``). PostgreSQL holds the record; NATS carries it; there is no cluster protocol of our
own:

- **outbox** (:mod:`.outbox`): accepting a message writes its publication into the ``outbox`` table
  in the message's own transaction, so a message is never stored without being published later,
  nor published without being stored;
- **relay** (:mod:`.relay`): one process of the group at a time (an advisory lock) publishes the
  pending rows in order, each with ``Nats-Msg-Id`` = the message's idempotency key (the servers
  drop a second publication within the duplicate window), and marks them published;
- **streams** (:mod:`.streams`): created or updated at start (replicas, file storage, duplicate
  window); subjects per kind and location (``expediter.orders.<location>``);
- **consumers** (:mod:`.consumer`): a durable consumer per purpose applies each message's effect
  in one transaction with a ``bus_inbox`` row (consumer, message id): a redelivery does nothing;
- **reconciliation** (:mod:`.reconcile`): what the outbox says was published, held against the
  stream; gaps are published again (de-duplication makes that safe);
- **health** (:mod:`.health`): connected servers, outbox pending, consumers pending.
"""

from expediter.engine.bus.health import BusHealth, bus_health
from expediter.engine.bus.outbox import Outbox
from expediter.engine.bus.reconcile import ReconcileReport, reconcile
from expediter.engine.bus.relay import Relay
from expediter.engine.bus.settings import BusSettings

__all__ = ["BusHealth", "BusSettings", "Outbox", "ReconcileReport", "Relay", "bus_health", "reconcile"]
