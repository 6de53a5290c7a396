"""``/purchasing``: the vendor invoices' exceptions a manager resolves, and the invoices received.

Each open exception (a short, a substitution, a price change, an unordered item, an invoice
without its PO) has Accept and Dispute buttons; ``POST /purchasing/resolve`` needs an operator
who sees every location the vendor serves (a vendor of every location: someone who sees every
location). An invoice with nothing open left is booked as an AP bill at once.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from expediter.engine.hub import Hub
from expediter.engine.purchasing import desk_of
from expediter.errors import RejectedInput
from expediter.operations.purchasing import ExceptionState, Resolution
from expediter.web.dashboard import _templates, posted_field
from expediter.web.people import actor_of, note_for_audit
from expediter.web.roles import Role, needs

REFRESH_SECONDS = 30


class PurchasingPage:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def _vendors(self, request: Request) -> Callable[[str], bool]:
        """Whether the person may see a vendor's invoices."""
        actor = actor_of(request)

        def visible(vendor: str) -> bool:
            system = self.hub.catalog.system(vendor)
            return actor is None or actor.sees_all_of(system.locations if system is not None else [])

        return visible

    async def index(self, request: Request) -> Response:
        desk, visible = desk_of(self.hub), self._vendors(request)
        open_ones = await desk.store.exceptions([ExceptionState.OPEN])
        decided = await desk.store.exceptions(
            [ExceptionState.DISPUTED, ExceptionState.ACCEPTED, ExceptionState.SETTLED]
        )
        html = _templates.get_template("purchasing.html").render(
            open_exceptions=[e for e in open_ones if visible(e.vendor)],
            decided=[e for e in decided if visible(e.vendor)][-20:],
            invoices=[i for i in await desk.store.invoices(limit=30) if visible(i.vendor)],
            flash=request.query_params.get("done", ""),
            refresh=REFRESH_SECONDS,
            refresh_url="/purchasing",
            page="purchasing",
        )
        return HTMLResponse(html)

    @needs(Role.OPERATOR)
    async def resolve(self, request: Request) -> Response:
        body = await request.body()
        action = posted_field(body, "action")
        desk = desk_of(self.hub)
        try:
            exception_id = int(posted_field(body, "exception"))
            resolution = Resolution(action)
            found = [e for e in await desk.store.exceptions([ExceptionState.OPEN]) if e.id == exception_id]
            if found and not self._vendors(request)(found[0].vendor):
                return PlainTextResponse("refused: that vendor serves locations you do not see", 403)
            stored = await desk.resolve(exception_id, resolution, posted_field(body, "note"))
        except (ValueError, RejectedInput) as exc:
            return PlainTextResponse(f"not resolved: {exc}", status_code=400)
        note_for_audit(request, f"exception {exception_id} {action}: invoice {stored.invoice_number}")
        done = f"invoice {stored.invoice_number}: {stored.state.value}"
        return RedirectResponse(f"/purchasing?done={done}", status_code=303)


def routes(hub: Hub) -> list[BaseRoute]:
    page = PurchasingPage(hub)
    return [
        Route("/purchasing", page.index, methods=["GET"]),
        Route("/purchasing/resolve", page.resolve, methods=["POST"], name="resolve_invoice"),
    ]
