"""What a person limited to some locations sees: the flows that serve one of their locations, and
of those only their locations' transfers, dead letters, alerts and journals.

A flow serves the locations both of its systems serve (a system's ``locations``, empty: every
location); a flow between systems of every location serves every location, and a person sees it
with their own locations' transfers. Things of no one location (a group-wide file) are for those
who see every location. ``sees`` is the person's test (:meth:`expediter.web.people.Actor.sees`);
without a person (routes served without the guard) everything is seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from starlette.requests import Request

from expediter.catalog.schema import Catalog, Flow
from expediter.web.people import actor_of

Sees = Callable[[str | None], bool]
T = TypeVar("T")


def everything(location_id: str | None) -> bool:
    return True


def sees_for(request: Request) -> Sees:
    actor = actor_of(request)
    return everything if actor is None or not actor.locations else actor.sees


def flow_locations(catalog: Catalog, flow: Flow) -> list[str]:
    """The locations a flow serves; empty: every location."""
    ends = [catalog.system(flow.from_), catalog.system(flow.to)]
    limits = [set(system.locations) for system in ends if system is not None and system.locations]
    if not limits:
        return []
    served = set.intersection(*limits)
    return sorted(served) or ["(none)"]


def flow_visible(catalog: Catalog, flow_id: str, sees: Sees) -> bool:
    if sees is everything:
        return True
    system, _, step = flow_id.partition("#")
    if step:  # a source's processing step: the source system's locations
        found = catalog.system(system)
        return found is not None and _serves_one(found.locations, sees)
    flow = catalog.flow(flow_id)
    return flow is not None and _serves_one(flow_locations(catalog, flow), sees)


def _serves_one(locations: list[str], sees: Sees) -> bool:
    return not locations or any(sees(location) for location in locations)


def system_visible(catalog: Catalog, system_id: str, sees: Sees) -> bool:
    system = catalog.system(system_id)
    return sees is everything or (system is not None and _serves_one(system.locations, sees))


def located(items: Iterable[T], sees: Sees, location: Callable[[T], str | None]) -> list[T]:
    """The items a person sees, by each one's location."""
    return list(items) if sees is everything else [item for item in items if sees(location(item))]


def alert_visible(catalog: Catalog, alert: Any, sees: Sees) -> bool:
    if sees is everything:
        return True
    if alert.location_id is not None:
        return sees(alert.location_id)
    if alert.flow_id is not None:
        return flow_visible(catalog, alert.flow_id, sees)
    return sees(None)
