"""The NATS names the edge and the group agree on (subjects, streams, domains), in one place."""

from __future__ import annotations

DOWN_STREAM = "GROUP_DOWN"
"""The group's stream of what goes down to the restaurants."""
HEARTBEAT_PREFIX = "expediter.edge"


def edge_domain(location: str) -> str:
    return f"edge-{location}"


def heartbeat_subject(location: str) -> str:
    return f"expediter.edge.{location}.heartbeat"


def down_subject(location: str, kind: str = ">") -> str:
    return f"expediter.group.down.{location}.{kind}"


def group_stream(location: str) -> str:
    """The group's copy of one restaurant's up stream (stream names allow ``-``, not ``.``)."""
    return f"EDGE_{location}"


def down_consumer(location: str) -> str:
    return f"edge-{location}"
