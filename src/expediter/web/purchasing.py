"""``/purchasing``: the vendor invoices' exceptions a manager resolves, and the invoices received.

Each open exception (a short, a substitution, a price change, an unordered item, an invoice
without its PO) has Accept and Dispute buttons; ``POST /purchasing/resolve`` is refused (403)
unless the form came from this very host, as the dashboard's replay is. An invoice with nothing
open left is booked as an AP bill at once.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from expediter.engine.purchasing import desk_of
from expediter.errors import RejectedInput
from expediter.operations.purchasing import ExceptionState, Resolution
from expediter.web.dashboard import _templates, posted_field, same_origin

REFRESH_SECONDS = 30


class PurchasingPage:
    def __init__(self, hub: Any) -> None:
        self.hub = hub

    async def index(self, request: Request) -> Response:
        desk = desk_of(self.hub)
        open_ones = await desk.store.exceptions([ExceptionState.OPEN])
        decided = await desk.store.exceptions(
            [ExceptionState.DISPUTED, ExceptionState.ACCEPTED, ExceptionState.SETTLED]
        )
        html = _templates.get_template("purchasing.html").render(
            open_exceptions=open_ones,
            decided=decided[-20:],
            invoices=await desk.store.invoices(limit=30),
            flash=request.query_params.get("done", ""),
            refresh=REFRESH_SECONDS,
            refresh_url="/purchasing",
            page="purchasing",
        )
        return HTMLResponse(html)

    async def resolve(self, request: Request) -> Response:
        if not same_origin(request):
            return PlainTextResponse("refused: the form must come from this hub's own page", status_code=403)
        body = await request.body()
        action = posted_field(body, "action")
        try:
            exception_id = int(posted_field(body, "exception"))
            resolution = Resolution(action)
            stored = await desk_of(self.hub).resolve(exception_id, resolution, posted_field(body, "note"))
        except (ValueError, RejectedInput) as exc:
            return PlainTextResponse(f"not resolved: {exc}", status_code=400)
        done = f"invoice {stored.invoice_number}: {stored.state.value}"
        return RedirectResponse(f"/purchasing?done={done}", status_code=303)


def routes(hub: Any) -> list[BaseRoute]:
    page = PurchasingPage(hub)
    return [
        Route("/purchasing", page.index, methods=["GET"]),
        Route("/purchasing/resolve", page.resolve, methods=["POST"]),
    ]
