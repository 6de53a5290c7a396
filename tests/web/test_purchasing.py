"""``/purchasing``: the exceptions of a vendor invoice on the page, resolved with its buttons."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from expediter.engine.hub import Hub
from expediter.engine.purchasing import desk_of
from expediter.operations.purchasing import InvoiceState
from expediter.sim.distributor import demo_changes, distributor_file, invoice_810
from expediter.web.app import create_app
from expediter.web.roles import Role
from tests.connectors.x12.test_vendor_flow import ORDER, _catalog
from tests.web.signin import signed_in


def test_exceptions_are_listed_and_resolved_from_the_page(tmp_path: Path) -> None:
    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with Hub(_catalog(tmp_path), deliver=False) as hub:
            desk = desk_of(hub)
            await desk.store.record_po(ORDER)
            flow = hub.catalog.flow("vendor_in")
            assert flow is not None
            data = distributor_file(
                [invoice_810(ORDER, demo_changes(ORDER), "A-100", date(2026, 3, 3))], "IN"
            )
            await desk.receive_file(flow, "810.edi", data)
            app = create_app(hub, manage_hub=False)
            async with signed_in(hub, app, Role.OPERATOR) as (client, csrf):
                seen["page"] = (await client.get("/purchasing")).text
                found = await desk.store.exceptions()
                seen["count"] = len(found)
                seen["evil"] = await client.post(
                    "/purchasing/resolve",
                    data={"exception": str(found[0].id), "action": "accept"},
                    headers={"Origin": "http://evil.example"},
                )
                for item in found:
                    seen["last"] = await client.post(
                        "/purchasing/resolve",
                        data={"exception": str(item.id), "action": "accept", "csrf": csrf},
                    )
                seen["after"] = (await client.get("/purchasing")).text
            seen["state"] = (await desk.store.invoices())[0].state
        return seen

    seen = asyncio.run(main())
    page = seen["page"]
    assert seen["count"] == 3
    for kind in ("substitution", "short", "price"):
        assert f"kind-{kind}" in page
    assert "A-100" in page and "Accept" in page
    assert seen["evil"].status_code == 403
    assert seen["last"].status_code == 303
    assert seen["state"] is InvoiceState.BOOKED
    assert "Nothing to resolve" in seen["after"]
