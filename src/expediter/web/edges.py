"""The edge's link and the group's edges, over HTTP.

- ``GET /api/v1/edge`` on a restaurant's hub (``[edge]``): its link to the group (connected, or
  offline since a time), how far it has relayed, what it applied from the group;
- ``GET /api/v1/edges`` on the group hub (``[group_edges]``): each restaurant online, offline
  since a time, or catching up (N behind).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from expediter.edge.group import EdgeList
from expediter.engine.hub import Hub
from expediter.web.api import ErrorBody, json_response
from expediter.web.visibility import sees_for


def routes(hub: Hub) -> list[BaseRoute]:
    async def edge(request: Request) -> Response:
        service = hub.services.extra.get("edge")
        if service is None:
            body = ErrorBody(error="this hub is no restaurant edge", fix="declare [edge] in its catalog")
            return json_response(body, 404)
        status = await service.links.status()
        if not sees_for(request)(status.location):
            return json_response(ErrorBody(error="this restaurant is not one of your locations"), 403)
        return json_response(status)

    async def edges(request: Request) -> Response:
        board = hub.services.extra.get("edge_board")
        if board is None:
            body = ErrorBody(error="this hub watches no edges", fix="declare [group_edges] in its catalog")
            return json_response(body, 404)
        sees = sees_for(request)
        views = await board.views()
        return json_response(EdgeList(edges=[view for view in views.edges if sees(view.location)]))

    return [
        Route("/api/v1/edge", edge, methods=["GET"]),
        Route("/api/v1/edges", edges, methods=["GET"]),
    ]
