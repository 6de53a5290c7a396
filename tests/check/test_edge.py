"""`expediter check` on ``[edge]`` and ``[group_edges]``: each mistake named with its key and a fix."""

from __future__ import annotations

from expediter.catalog.schema import Bus, Catalog, Edge, GroupEdges, Hub
from expediter.check.edge import check_edge
from expediter.model.location import Location

DOWNTOWN = Location(id="downtown", name="Downtown", timezone="America/New_York")


def problems_of(catalog: Catalog) -> list[tuple[str, str]]:
    return [(problem.where, problem.message) for problem in check_edge(catalog, "expediter.toml")]


def test_a_well_formed_edge_and_group_pass() -> None:
    edge = Edge(location="downtown", group_url="nats-leaf://nats.group.example:7422", group_token="env:T")
    group = GroupEdges(nats_url="nats://nats-1:4222", locations=["downtown"])
    assert problems_of(Catalog(locations=[DOWNTOWN], edge=edge, group_edges=group)) == []


def test_each_edge_mistake_is_named_at_its_key() -> None:
    edge = Edge(
        location="uptown", group_url="http://group.example", group_token="s3cret", heartbeat_seconds=0
    )
    catalog = Catalog(hub=Hub(bus=Bus(url="nats://n:4222")), locations=[DOWNTOWN], edge=edge)
    found = problems_of(catalog)
    assert [where for where, _ in found] == [
        "$.edge.location",
        "$.edge.group_url",
        "$.edge.group_token",
        "$.hub.bus",
        "$.edge.heartbeat_seconds",
    ]
    assert "s3cret" not in " ".join(message for _, message in found)  # a secret is never repeated


def test_a_location_id_that_cannot_be_a_nats_name_is_refused() -> None:
    dotted = Location(id="main.street", name="Main Street", timezone="America/New_York")
    edge = Edge(location="main.street", group_url="nats-leaf://group:7422")
    [(where, message)] = problems_of(Catalog(locations=[dotted], edge=edge))
    assert where == "$.edge.location" and "NATS" in message


def test_the_group_watches_declared_locations_on_a_nats_url() -> None:
    group = GroupEdges(
        nats_url="nats-leaf://x:7422", locations=["downtown", "nowhere"], offline_after_seconds=0
    )
    assert [where for where, _ in problems_of(Catalog(locations=[DOWNTOWN], group_edges=group))] == [
        "$.group_edges.nats_url",
        "$.group_edges.locations[1]",
        "$.group_edges.offline_after_seconds",
    ]
