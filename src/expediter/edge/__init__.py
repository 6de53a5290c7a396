"""The restaurant edge: a hub in one restaurant, joined to the group hub through a NATS leaf node.

The edge is a whole hub (SQLite, its kitchen screens, printers, the POS's local webhooks) that
never waits on the internet. Beside it runs its own ``nats-server`` (:mod:`.server`), a leaf node
of the group's server with its own JetStream domain, ``edge-<location>``:

- **up** (:mod:`.links`): every message the edge stores (orders, ticket status — bumps and ready
  notices —, 86s) is relayed in order through the outbox to the edge's own server (the bus's
  ``MESSAGES`` stream, with ``Nats-Msg-Id``; the kitchen's station events to ``KITCHEN``), and
  the group's stream ``EDGE_<location>`` *sources* both across the leaf connection: while the
  link is cut, NATS keeps the queue; the edge's transfers go the same way (:mod:`.transfers`);
- **at the group** (:mod:`.intake`): each message is stored once under a key naming its
  location, each transfer recorded once in the group's ledger;
- **down** (:mod:`.links`): the group publishes to ``expediter.group.down.<location>.<kind>``
  (stream ``GROUP_DOWN``); the edge pulls from its own durable consumer there and applies each
  message once (its inbox key is the group stream's sequence): an 86 to its kitchen, a menu
  change to its menu (the kitchen routes by it);
- **link state** (:mod:`.links`, :mod:`.group`): the edge publishes a heartbeat; the group
  shows each restaurant online, offline since a time, or catching up.
"""
