"""The page per flow over the real HTTP stack: the catalog's documentation, owner and contact, the
ledger with filters, dead letters with their payload (cards masked) and replay, run now,
acknowledge, the alert history, the runbook, and the live health the home page polls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from starlette.routing import Route

import expediter.demo
from expediter.access.audit import AuditAction, AuditEntry, AuditLog, Outcome
from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError
from expediter.ledger import Direction, Transfer, TransferOutcome
from expediter.ledger.drills import drills_of
from expediter.model import clock
from expediter.model.cards import mask_card_numbers
from expediter.model.location import Location
from expediter.model.time import zone
from expediter.monitor import alert_store
from expediter.monitor.alerts import AlertKind, AlertState
from expediter.monitor.runbook import runbook_html
from expediter.plugin.base import IncomingMessage, Outbound
from expediter.runtime import Runtime
from expediter.storage.base import Tx
from expediter.web.app import collect_routes, create_app
from expediter.web.roles import Role, role_needed
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually
from tests.web.signin import signed_in

CARD = "4111 1111 1111 1111"
RECIPES = Path(expediter.demo.__file__).parent / "recipes.toml"


def page_catalog(folder: Path) -> Catalog:
    drop = {"transport": {"inbox_dir": str(folder / "drop")}}
    return Catalog(
        hub=HubSettings(database=str(folder / "hub.db"), data_dir=str(folder / "data")),
        locations=[
            Location(id="L1", name="Downtown", timezone="America/New_York"),
            Location(id="L2", name="Harbor", timezone="America/New_York"),
        ],
        systems=[
            System(
                id="pos", kind=SystemKind.POS, connector="test_source", owner="ops", description="The POS."
            ),
            System(id="kds", kind=SystemKind.KDS, connector="test_sink", owner="ops", description="Screens."),
            System(
                id="inventory",
                kind=SystemKind.INVENTORY,
                connector="csv",
                owner="Chef",
                settings={"recipes": str(RECIPES), **drop},
            ),
        ],
        flows=[
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="Chef Andre",
                contact="chef@bistro.example",
                description="Every check becomes tickets on the station screens.",
                impact="Cooks do not see new orders.",
                freshness_minutes=15,
            ),
            Flow(
                id="sales",
                from_="pos",
                to="inventory",
                data="sales_summary",
                level=Level.FILE,
                trigger=Trigger.SCHEDULE,
                schedule="0 5 * * *",
                expected_by="06:00",
                transport="folder",
                format="csv",
                owner="Priya (controller)",
                contact="+1 212 555 0100",
                description="The night's sales for the chef's usage report.",
                impact="Theoretical usage is not computed.",
            ),
        ],
    )


@dataclass
class Site:
    """A running hub, its web app, and a client signed in as a person (``csrf``: their token,
    which every form of the hub carries)."""

    runtime: Runtime
    board: Board
    app: Any
    client: httpx.AsyncClient
    csrf: str

    async def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        return await self.client.post(path, data={**form, "csrf": self.csrf})

    def person(self, name: str, role: Role = Role.OPERATOR, locations: tuple[str, ...] = ()) -> Any:
        """Another person signed in on the same hub: ``async with site.person(...) as other``."""
        return _person(self, name, role, locations)

    async def audit(self, action: AuditAction) -> list[AuditEntry]:
        entries = await AuditLog(self.runtime.hub.storage).entries()
        return [e for e in entries if e.action is action]


@asynccontextmanager
async def _person(site: Site, name: str, role: Role, locations: tuple[str, ...]) -> AsyncIterator[Site]:
    async with signed_in(site.runtime.hub, site.app, role, locations, name) as (client, csrf):
        yield Site(runtime=site.runtime, board=site.board, app=site.app, client=client, csrf=csrf)


@asynccontextmanager
async def page_hub(
    folder: Path, catalog: Catalog | None = None, role: Role = Role.OPERATOR, name: str = "andre"
) -> AsyncIterator[Site]:
    declared = catalog or page_catalog(folder)
    hub = Hub(declared, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=0.001, cap=0.001))
    board = Board()
    hub.services.extra["board"] = board
    async with Runtime(declared, hub, schedule=False, watch=False) as runtime:
        app = create_app(hub, manage_hub=False)
        async with signed_in(hub, app, role, name=name) as (client, csrf):
            yield Site(runtime=runtime, board=board, app=app, client=client, csrf=csrf)


def order(number: int, location: str = "L1", note: str = "") -> IncomingMessage:
    body = {
        "id": f"o-{number}",
        "location_id": location,
        "opened_at": clock.now_iso(),
        "lines": [],
        "notes": note,
    }
    return IncomingMessage(
        source_system="pos",
        kind="orders",
        idempotency_key=f"pos:o-{number}:1",
        payload=msgspec.json.encode(body),
        location_id=location,
    )


async def kill_the_screens(runtime: Runtime, board: Board, *orders: IncomingMessage) -> None:
    async def refuse(item: Outbound) -> None:
        raise TerminalError(f"HTTP 400 from the screens: station unknown for {item.delivery_id}")

    board.behaviour["kds"] = refuse
    for message in orders:
        await runtime.hub.inbox.accept(message)

    async def all_dead() -> bool:
        return (await runtime.hub.deliveries.dead_by_flow()).get("pos-kds", 0) == len(orders)

    await eventually(all_dead)
    await runtime.watch_once()


def test_the_page_documents_the_flow_from_the_catalog(tmp_path: Path) -> None:
    async def main() -> str:
        async with page_hub(tmp_path) as site:
            return (await site.client.get("/flows/sales")).text

    html = asyncio.run(main())
    for words in (
        "The night&#39;s sales for the chef&#39;s usage report.",
        "Theoretical usage is not computed.",
        "<code>sales_summary</code>",
        "<strong>pos</strong>",
        "<strong>inventory</strong>",
        "schedule <code>0 5 * * *</code>",
        "folder · csv",
        "done by 06:00 local time",
        "Priya (controller)",
        "+1 212 555 0100",
        "Run now",
    ):
        assert words in html, words


def keep_a_card_number_in(message_id: int) -> Callable[[Tx], None]:
    """A payload kept before the hub refused card numbers at the door still shows masked."""

    def write(tx: Tx) -> None:
        payload = f'{{"id": "o-1", "notes": "guest paid with {CARD}"}}'.encode()
        tx.execute("UPDATE messages SET payload = ? WHERE id = ?", (payload, message_id))

    return write


def test_dead_letters_show_their_payload_with_the_card_masked_and_replay_one_or_all(tmp_path: Path) -> None:
    async def main() -> tuple[str, int, int, int, list[str]]:
        async with page_hub(tmp_path) as site:
            runtime, board = site.runtime, site.board
            # one per lane: an ordered flow's first dead letter holds the rest of its lane
            await kill_the_screens(runtime, board, order(1, note="guest paid by card"), order(2, "L2"))
            [first, *_] = await runtime.hub.deliveries.dead_letters("pos-kds")
            await runtime.hub.storage.write(keep_a_card_number_in(first.message_id))
            html = (await site.client.get("/flows/pos-kds")).text
            board.behaviour.pop("kds")
            one = await site.post("/flows/pos-kds/replay", {"delivery": str(first.id)})
            await eventually(lambda: len(board.delivered_to("kds")) == 1)
            left = sum((await runtime.hub.deliveries.dead_by_flow()).values())
            every = await site.post("/flows/pos-kds/replay", {"delivery": "all"})
            await eventually(lambda: len(board.delivered_to("kds")) == 2)
            flash = (await site.client.get(every.headers["location"])).text
            audited = [(e.actor, e.outcome, e.detail) for e in await site.audit(AuditAction.REPLAY)]
            return html, one.status_code, left, every.status_code, [flash, str(first.id), *map(str, audited)]

    html, one, left, every, [flash, first_id, *audited] = asyncio.run(main())
    assert mask_card_numbers(CARD) in html and CARD not in html and CARD.replace(" ", "") not in html
    assert "HTTP 400 from the screens: station unknown" in html
    assert html.count('name="delivery" value="') == 3  # one per letter, and "all"
    assert (one, every) == (303, 303) and left == 1
    assert "1 dead letter(s) back to pending" in flash
    assert audited == [  # newest first, by the person signed in
        str(("andre", Outcome.DONE, "1 dead letter(s) of pos-kds back to pending")),
        str(("andre", Outcome.DONE, f"dead letter {first_id} of pos-kds back to pending")),
    ]


def test_transfers_are_filtered_by_outcome_dates_location_and_text(tmp_path: Path) -> None:
    now = clock.now()

    def transfer(outcome: TransferOutcome, location: str, error: str = "", days_ago: int = 0) -> Transfer:
        at = now - timedelta(days=days_ago)
        return Transfer(
            flow_id="pos-kds",
            direction=Direction.OUT,
            level="realtime",
            transport="http",
            started_at=at,
            finished_at=at,
            outcome=outcome,
            location_id=location,
            error=error,
            remote_ref=f"ref-{location}-{days_ago}-{outcome}",
        )

    async def main() -> dict[str, str]:
        async with page_hub(tmp_path) as site:
            runtime, client = site.runtime, site.client
            for t in (
                transfer(TransferOutcome.SUCCEEDED, "L1"),
                transfer(TransferOutcome.RETRYING, "L2", "Timeout talking to 10.0.0.9", days_ago=3),
                transfer(TransferOutcome.DEAD, "L1", "HTTP 400: station 100%_unknown", days_ago=10),
            ):
                await runtime.hub.ledger.record(t)
            today = now.astimezone(zone("America/New_York")).date()  # the dates the page filters by
            queries = {
                "failed": "outcome=failed",
                "L2": "location=L2",
                "text": "q=TIMEOUT",
                "literal": "q=100%25_",
                "recent": f"from={(today - timedelta(days=5)).isoformat()}",
                "old": f"to={(today - timedelta(days=7)).isoformat()}",
            }
            return {name: (await client.get(f"/flows/pos-kds?{q}")).text for name, q in queries.items()}

    pages = asyncio.run(main())

    def refs(html: str) -> set[str]:
        return {ref for ref in ("ref-L1-0-", "ref-L2-3-", "ref-L1-10-") if ref in html}

    assert refs(pages["failed"]) == {"ref-L2-3-", "ref-L1-10-"}
    assert refs(pages["L2"]) == {"ref-L2-3-"}
    assert refs(pages["text"]) == {"ref-L2-3-"}
    assert refs(pages["literal"]) == {"ref-L1-10-"}
    assert refs(pages["recent"]) == {"ref-L1-0-", "ref-L2-3-"}
    assert refs(pages["old"]) == {"ref-L1-10-"}


def test_an_alert_is_acknowledged_from_the_page_and_kept_in_its_history(tmp_path: Path) -> None:
    async def main() -> tuple[str, str, list[str]]:
        async with page_hub(tmp_path) as site:
            runtime = site.runtime
            await kill_the_screens(runtime, site.board, order(1))
            [alert] = [a for a in await runtime.alerting.open_alerts() if a.kind is AlertKind.DEAD_LETTER]
            before = (await site.client.get("/flows/pos-kds")).text
            # who acknowledges is the person signed in, whatever a form says
            answer = await site.post(f"/flows/pos-kds/alerts/{alert.id}/ack", {"by": "Somebody Else"})
            assert answer.status_code == 303
            after = (await site.client.get(answer.headers["location"])).text
            kept = await runtime.hub.storage.read(lambda tx: alert_store.alert_history(tx, "pos-kds"))
            [audited] = await site.audit(AuditAction.ACKNOWLEDGE)
            return (
                before,
                after,
                [
                    *(f"{a.kind}:{a.state}:{a.acknowledged_by}" for a in kept),
                    f"{audited.actor}:{audited.outcome}:{audited.detail}",
                ],
            )

    before, after, kept = asyncio.run(main())
    assert "/alerts/" in before and "Acknowledge</button>" in before
    assert "acknowledged: no more reminders" in after and "by andre" in after
    assert "Somebody Else" not in after
    assert f"{AlertKind.DEAD_LETTER}:{AlertState.ACKNOWLEDGED}:andre" in kept
    assert kept[-1].startswith("andre:done:alert ") and "of pos-kds (dead_letter): acknowledged" in kept[-1]


def test_run_now_runs_the_scheduled_flow_for_the_chosen_night(tmp_path: Path) -> None:
    async def main() -> tuple[int, list[Transfer]]:
        async with page_hub(tmp_path) as site:
            day = (clock.now() - timedelta(days=2)).date().isoformat()
            answer = await site.post("/flows/sales/run", {"location": "L2", "date": day})
            [audited] = await site.audit(AuditAction.RUN)
            assert (audited.actor, audited.location_id) == ("andre", "L2"), audited
            assert audited.detail.startswith(f"sales for L2 on {day}: "), audited
            return answer.status_code, await site.runtime.hub.ledger.transfers(flow_id="sales")

    status, transfers = asyncio.run(main())
    assert status == 303
    [run] = transfers
    assert run.location_id == "L2" and run.business_date == (clock.now() - timedelta(days=2)).date()


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/flows/pos-kds/replay", {"delivery": "all"}),
        ("/flows/sales/run", {"location": "L1"}),
        ("/flows/pos-kds/alerts/1/ack", {}),
        ("/flows/pos-kds/drill", {}),
    ],
)
def test_every_action_is_refused_from_another_site(tmp_path: Path, path: str, form: dict[str, str]) -> None:
    """Another site's page can make the browser post (with its cookies, were they not SameSite),
    but cannot read the session's token; a page of this hub sent with a foreign Origin is refused
    too, and so is any request for a host name the hub does not answer to."""

    async def main() -> tuple[int, int, int, int]:
        async with page_hub(tmp_path) as site:
            forged = await site.client.post(
                path, data={**form, "csrf": site.csrf}, headers={"origin": "https://evil.example"}
            )
            bare = await site.client.post(path, data=form)
            guessed = await site.client.post(path, data={**form, "csrf": "guess"})
            rebound = await site.client.post(
                path, data={**form, "csrf": site.csrf}, headers={"host": "evil.example"}
            )
            return forged.status_code, bare.status_code, guessed.status_code, rebound.status_code

    forged, bare, guessed, rebound = asyncio.run(main())
    assert (forged, bare, guessed) == (403, 403, 403)
    assert rebound == 400


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/flows/pos-kds/replay", {"delivery": "all"}),
        ("/flows/sales/run", {"location": "L1"}),
        ("/flows/pos-kds/alerts/{alert}/ack", {}),
        ("/flows/pos-kds/drill", {}),
    ],
)
def test_a_viewer_reads_the_flow_page_and_cannot_act_on_it(
    tmp_path: Path, path: str, form: dict[str, str]
) -> None:
    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with page_hub(tmp_path) as site:
            hub = site.runtime.hub
            await kill_the_screens(site.runtime, site.board, order(1))
            [alert] = [
                a for a in await site.runtime.alerting.open_alerts() if a.kind is AlertKind.DEAD_LETTER
            ]
            async with site.person("val", Role.VIEWER) as viewer:
                seen["page"] = await viewer.client.get("/flows/pos-kds")
                seen["answer"] = await viewer.post(path.format(alert=alert.id), form)
            seen["dead"] = sum((await hub.deliveries.dead_by_flow()).values())
            kept = await hub.storage.read(lambda tx: alert_store.alert_history(tx, "pos-kds"))
            seen["states"] = {f"{a.kind}:{a.state}" for a in kept}
            seen["sales_runs"] = len(await hub.ledger.transfers(flow_id="sales"))
            seen["drills"] = len(await hub.storage.read(lambda tx: drills_of(tx, "pos-kds")))
            entries = await AuditLog(hub.storage).entries()
            seen["refused"] = [e for e in entries if e.actor == "val" and e.outcome is Outcome.REFUSED]
        return seen

    seen = asyncio.run(main())
    html = seen["page"].text
    assert seen["page"].status_code == 200 and "HTTP 400 from the screens" in html  # a viewer reads it all
    assert 'action="/flows/pos-kds/replay"' not in html and "Acknowledge</button>" not in html
    assert "An operator can replay them." in html and 'id="start-drill"' not in html
    assert seen["answer"].status_code == 403
    assert seen["dead"] == 1 and f"{AlertKind.DEAD_LETTER}:{AlertState.FIRING}" in seen["states"]
    assert seen["sales_runs"] == 0 and seen["drills"] == 0
    refused: list[AuditEntry] = seen["refused"]
    [entry] = refused
    assert entry.outcome is Outcome.REFUSED and "val is a viewer; this needs an operator" in entry.detail


def harbor_catalog(folder: Path) -> Catalog:
    """The page catalog with a second kitchen, at the harbor only."""
    catalog = page_catalog(folder)
    harbor = System(
        id="harbor-kds", kind=SystemKind.KDS, connector="test_sink", owner="ops", locations=["L2"]
    )
    flow = msgspec.structs.replace(catalog.flows[0], id="pos-harbor-kds", to="harbor-kds")
    return msgspec.structs.replace(catalog, systems=[*catalog.systems, harbor], flows=[*catalog.flows, flow])


def test_a_person_of_one_location_sees_and_replays_only_its_dead_letters(tmp_path: Path) -> None:
    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with page_hub(tmp_path, harbor_catalog(tmp_path)) as site:
            runtime, board = site.runtime, site.board
            await kill_the_screens(runtime, board, order(1, "L1"), order(2, "L2"))
            [l1] = [d for d in await runtime.hub.deliveries.dead_letters("pos-kds") if d.location_id == "L1"]
            [l2] = [d for d in await runtime.hub.deliveries.dead_letters("pos-kds") if d.location_id == "L2"]
            board.behaviour.pop("kds")  # the cause is fixed
            async with site.person("downtown", Role.OPERATOR, ("L1",)) as downtown:
                seen["page"] = (await downtown.client.get("/flows/pos-kds")).text
                seen["sales_page"] = (await downtown.client.get("/flows/sales")).text
                seen["harbor_page"] = await downtown.client.get("/flows/pos-harbor-kds")
                seen["harbor_replay"] = await downtown.post(
                    "/flows/pos-harbor-kds/replay", {"delivery": "all"}
                )
                seen["one_of_l2"] = await downtown.post("/flows/pos-kds/replay", {"delivery": str(l2.id)})
                seen["run_l2"] = await downtown.post("/flows/sales/run", {"location": "L2"})
                seen["drill"] = await downtown.post("/flows/pos-kds/drill", {})  # breaks L2's too
                seen["health"] = (await downtown.client.get("/flows/health.json")).json()
                seen["everyone_health"] = (await site.client.get("/flows/health.json")).json()
                seen["all"] = await downtown.post("/flows/pos-kds/replay", {"delivery": "all"})
            await eventually(lambda: len(board.delivered_to("kds")) == 1)
            seen["dead"] = [(d.id, d.location_id) for d in await runtime.hub.deliveries.dead_letters()]
            seen["ids"] = (l1.id, l2.id)
            seen["sales_runs"] = await runtime.hub.ledger.transfers(flow_id="sales")
        return seen

    seen = asyncio.run(main())
    l1, l2 = seen["ids"]
    page = seen["page"]
    assert f'id="dead-{l1}"' in page and f'id="dead-{l2}"' not in page
    assert "Dead letters (1)" in page
    sales = seen["sales_page"]  # run now, and the transfers' filter
    assert 'name="location" value="L1"' in sales and 'name="location" value="L2"' not in sales
    assert '<option value="L1"' in sales and '<option value="L2"' not in sales
    assert seen["harbor_page"].status_code == 404 and seen["harbor_replay"].status_code == 404
    assert seen["one_of_l2"].status_code == 400 and seen["run_l2"].status_code == 400
    assert seen["sales_runs"] == []
    assert seen["drill"].status_code == 403 and "ask someone who sees them all" in seen["drill"].text
    assert 'id="start-drill"' not in page
    assert seen["all"].status_code == 303 and "replayed=1" in seen["all"].headers["location"]
    assert seen["dead"] == [(l2, "L2")]  # the harbor's dead letter did not move
    assert [f["id"] for f in seen["health"]["flows"]] == ["pos-kds", "sales"]
    assert seen["health"]["dead_letters"] == 1
    assert [f["id"] for f in seen["everyone_health"]["flows"]] == ["pos-kds", "sales", "pos-harbor-kds"]
    assert seen["everyone_health"]["dead_letters"] == 2


def test_actions_need_an_operator_and_pages_a_viewer(tmp_path: Path) -> None:
    hub = Hub(page_catalog(tmp_path), connectors=TEST_CONNECTORS)
    found = {
        (route.path, method): role_needed(route.endpoint)
        for route in collect_routes(hub, ("expediter.web.flows",))
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert found == {
        ("/flows/health.json", "GET"): Role.VIEWER,
        ("/flows/{flow_id}", "GET"): Role.VIEWER,
        ("/flows/{flow_id}/runbook", "GET"): Role.VIEWER,
        ("/flows/{flow_id}/replay", "POST"): Role.OPERATOR,
        ("/flows/{flow_id}/run", "POST"): Role.OPERATOR,
        ("/flows/{flow_id}/drill", "POST"): Role.OPERATOR,
        ("/flows/{flow_id}/alerts/{alert_id}/ack", "POST"): Role.OPERATOR,
    }


def test_the_live_health_says_a_flow_is_failing_and_the_runbook_is_the_catalogs(tmp_path: Path) -> None:
    async def main() -> tuple[dict[str, object], dict[str, object], str, str]:
        async with page_hub(tmp_path) as site:
            runtime, client = site.runtime, site.client
            healthy = (await client.get("/flows/health.json")).json()
            await kill_the_screens(runtime, site.board, order(1))
            failing = (await client.get("/flows/health.json")).json()
            runbook = (await client.get("/flows/pos-kds/runbook")).text
            return healthy, failing, runbook, runbook_html(runtime.catalog, runtime.catalog.flows[0])

    healthy, failing, runbook, expected = asyncio.run(main())
    assert {f["id"]: f["health"] for f in healthy["flows"]} == {"pos-kds": "never_ran", "sales": "never_ran"}  # type: ignore[index,union-attr]
    assert {f["id"]: f["health"] for f in failing["flows"]}["pos-kds"] == "failing"  # type: ignore[index,union-attr]
    assert failing["dead_letters"] == 1 and failing["alerts"] == 2  # dead letter + failure
    assert expected in runbook
    assert "Every check becomes tickets on the station screens." in runbook
    assert "<code>dead_letter</code>" in runbook


def test_an_unknown_flow_is_a_404_that_says_so(tmp_path: Path) -> None:
    async def main() -> httpx.Response:
        async with page_hub(tmp_path) as site:
            return await site.client.get("/flows/pos-kdss")

    answer = asyncio.run(main())
    assert answer.status_code == 404 and "no flow 'pos-kdss' in the catalog" in answer.text
