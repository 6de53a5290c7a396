"""People and permissions over the real HTTP stack: sign-in and sessions, roles, locations, CSRF,
the Host allow-list, API tokens limited to locations, paired kitchen devices and the audit log."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from starlette.routing import Route

from expediter.access.audit import AuditAction, AuditEntry, Outcome
from expediter.access.devices import CODE_LIFETIME
from expediter.catalog.schema import ApiToken, Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.catalog.secrets import hash_token
from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError
from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.plugin.base import Capability, Connector, IncomingMessage
from expediter.runtime import Runtime
from expediter.web.app import HubApp, create_app
from expediter.web.people import allowed_hosts, host_name, people_of
from expediter.web.roles import Caller, Role, caller_of
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message, sample_catalog
from tests.operations.kitchen.helpers import order
from tests.web.signin import (
    PASSWORD,
    add_user,
    client_for,
    code_on,
    pair_screen,
    sign_in,
    signed_in,
)

TOKEN, L1_TOKEN = "people-test-token", "people-test-token-for-L1"
SAMPLE = {
    "station": "grill",
    "ticket_id": "grill-0",
    "system": "pos",
    "order_id": "o-1",
    "name": "kds.js",
    "flow_id": "pos-kds",
    "alert_id": "1",
    "import_id": "1",
    "location": "L1",
    "day": "2026-01-01",
}


def kitchen_catalog(tmp_path: Path) -> Catalog:
    """Two locations, a POS and the built-in kitchen screens; a token for each location scope."""
    return Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db")),
        locations=[
            Location(id="L1", name="Downtown", timezone="America/New_York"),
            Location(id="L2", name="Harbor", timezone="America/Los_Angeles"),
        ],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(id="kds", kind=SystemKind.KDS, connector="kds", owner="chef"),
        ],
        flows=[
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="chef",
            )
        ],
        api_tokens=[
            ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"]),
            ApiToken(name="pos-l1", sha256=hash_token(L1_TOKEN), systems=["pos"], locations=["L1"]),
        ],
        mappings=Mappings(stations={"burgers": ["grill"], "sides": ["fry"]}),
    )


@asynccontextmanager
async def kitchen_hub(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Any]]:
    async with Runtime(kitchen_catalog(tmp_path), schedule=False, watch=False) as runtime:
        yield runtime, create_app(runtime.hub, manage_hub=False)


def run(work: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(work())


async def audit_of(hub: Any) -> list[AuditEntry]:
    return await people_of(hub).audit.entries()


def order_body(order_id: str, location: str) -> bytes:
    placed = msgspec.structs.replace(order(order_id), location_id=location, source_system="pos")
    return msgspec.json.encode(placed)


# -- every route, one door ---------------------------------------------------------------------------


def unsafe_routes(app: HubApp) -> list[tuple[str, str, object]]:
    """(method, path with sample parameters, endpoint) of every route that changes something,
    including the raw fast paths served before routing."""
    found = []
    for route in app.routes:
        assert isinstance(route, Route), route
        for method in sorted((route.methods or set()) - {"GET", "HEAD"}):
            found.append((method, route.path.format(**SAMPLE), route.endpoint))
    found += [(method, path, endpoint) for (method, path), endpoint in app.fast.items()]
    return found


def test_every_post_route_refuses_a_foreign_host_and_a_forged_cross_site_request(tmp_path: Path) -> None:
    """A page of another site, in the browser of a signed-in admin beside a paired screen, cannot
    change anything, whichever route it posts to; a name that is not the hub's gets nothing at all.
    The routes are read from the app, so a new route cannot slip past."""

    async def main() -> None:
        async with kitchen_hub(tmp_path) as (runtime, app):
            routes = unsafe_routes(app)
            paths = {path for _, path, _ in routes}
            assert {"/dashboard/replay", "/api/v1/orders", "/api/v1/kds/grill/tickets/grill-0/bump"} <= paths
            assert "/api/v1/kds/availability" in paths and "/purchasing/resolve" in paths
            async with signed_in(runtime.hub, app, Role.ADMIN) as (victim, _csrf):
                await pair_screen(runtime.hub, victim, "grill", "L1", ("grill", "expo"))
                async with client_for(app, "http://evil.example") as rebound:
                    for method, path, endpoint in routes:
                        forged = await victim.request(
                            method,
                            path,
                            content=b"flow=pos-kds&exception=1&action=accept&device=1&code=AAAAAA",
                            headers={
                                "Origin": "http://evil.example",
                                "Content-Type": "application/x-www-form-urlencoded",
                            },
                        )
                        # a machine's route without its token or signature: refused, or no such sender
                        refusals = (401, 403, 404) if caller_of(endpoint) is Caller.MACHINE else (401, 403)
                        assert forged.status_code in refusals, (method, path, forged.status_code)
                        cookies = "; ".join(f"{c.name}={c.value}" for c in victim.cookies.jar)
                        foreign = await rebound.request(method, path, headers={"Cookie": cookies})
                        assert foreign.status_code == 400, (method, path)
                        assert "hub.allowed_hosts" in foreign.text
            refused = [e for e in await audit_of(runtime.hub) if e.outcome is Outcome.REFUSED]
            assert {e.action for e in refused} >= {
                AuditAction.REPLAY,
                AuditAction.BUMP,
                AuditAction.EIGHTY_SIX,
            }
            assert runtime.kitchen.unavailable() == []  # the forged 86 changed nothing

    run(main)


def test_every_page_is_refused_under_a_foreign_host_too(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            kitchen_hub(tmp_path) as (_runtime, app),
            client_for(app, "http://attacker.example:8080") as client,
        ):
            for route in app.routes:
                assert (await client.get(route.path.format(**SAMPLE))).status_code == 400, route.path
            async with client_for(app, "http://127.0.0.1:8080") as client:
                assert (await client.get("/healthz")).status_code == 200

    run(main)


def test_the_host_allow_list_defaults_to_loopback_plus_the_public_name() -> None:
    assert allowed_hosts(HubSettings()) == {"localhost", "127.0.0.1", "::1"}
    public = allowed_hosts(HubSettings(public_url="https://Hub.Example.com/x"))
    assert public == {"localhost", "127.0.0.1", "::1", "hub.example.com"}
    chosen = allowed_hosts(HubSettings(allowed_hosts=["kitchen.lan"], public_url="https://hub.example.com"))
    assert chosen == {"kitchen.lan", "hub.example.com"}
    assert host_name("Hub.Example.com:8443") == "hub.example.com" and host_name("[::1]:8080") == "::1"
    assert host_name("localhost") == "localhost"


# -- signing in ----------------------------------------------------------------------------------------


def test_first_run_says_how_to_add_a_user_and_the_api_keeps_working(tmp_path: Path) -> None:
    async def main() -> None:
        async with kitchen_hub(tmp_path) as (_runtime, app), client_for(app) as client:
            page = await client.get("/")
            login = await client.get("/login")
            posted = await client.post(
                "/api/v1/orders",
                content=order_body("o-1", "L1"),
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert page.status_code == 503 and "expediter users add NAME --role admin" in page.text
            assert login.status_code == 503 and 'id="first-run"' in login.text
            assert posted.status_code == 202, posted.text

    run(main)


def test_sign_in_session_cookie_and_sign_out(tmp_path: Path) -> None:
    async def main() -> None:
        async with kitchen_hub(tmp_path) as (runtime, app):
            await add_user(runtime.hub, "ana", Role.OPERATOR, ("L1",))
            async with client_for(app) as client:
                assert (await client.get("/transfers")).headers["location"] == "/login?next=%2Ftransfers"
                form = await client.get("/login")
                token = re.search(r'name="csrf" value="([^"]+)"', form.text)
                assert token
                wrong = await client.post(
                    "/login", data={"csrf": token[1], "name": "ana", "password": "not it at all"}
                )
                assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
                csrf = await sign_in(client, "ana")
                cookie = next(c for c in client.cookies.jar if c.name == "expediter_session")
                page = await client.get("/")
                out = await client.post("/logout", data={"csrf": csrf})
                after = await client.get("/")
            header = "; ".join(h for h in out.headers.get_list("set-cookie"))
            stored = await runtime.hub.storage.read(lambda tx: tx.all("SELECT id_hash FROM sessions"))
            entries = await audit_of(runtime.hub)
        assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "lax"
        assert not cookie.secure  # no https public_url, so no Secure flag
        assert page.status_code == 200 and "ana · operator · L1" in page.text
        assert out.status_code == 303 and 'expediter_session=""' in header
        assert after.status_code == 303 and after.headers["location"].startswith("/login")
        assert stored == [] and cookie.value not in str(entries)
        actions = [(e.action, e.outcome, e.actor) for e in reversed(entries)]
        assert actions == [
            (AuditAction.LOGIN_FAILED, Outcome.REFUSED, "ana"),
            (AuditAction.LOGIN, Outcome.DONE, "ana"),
            (AuditAction.LOGOUT, Outcome.DONE, "ana"),
        ]

    run(main)


def test_cookies_are_secure_behind_https(tmp_path: Path) -> None:
    catalog = kitchen_catalog(tmp_path)
    catalog.hub.public_url = "https://hub.example.com"
    hub = Hub(catalog, deliver=False)

    async def main() -> list[str]:
        async with hub:
            await add_user(hub)
            async with client_for(create_app(hub, manage_hub=False), "https://hub.example.com") as client:
                await sign_in(client)
                return [c.name for c in client.cookies.jar if c.secure]

    assert "expediter_session" in run(main)


def test_a_name_is_locked_after_ten_failed_sign_ins(tmp_path: Path) -> None:
    async def main() -> tuple[httpx.Response, int]:
        async with kitchen_hub(tmp_path) as (runtime, app):
            await add_user(runtime.hub, "ana")
            async with client_for(app) as client:
                for _ in range(10):
                    form = await client.get("/login")
                    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
                    assert token
                    await client.post(
                        "/login", data={"csrf": token[1], "name": "ana", "password": "guess-guess"}
                    )
                form = await client.get("/login")
                token = re.search(r'name="csrf" value="([^"]+)"', form.text)
                assert token
                locked = await client.post(
                    "/login", data={"csrf": token[1], "name": "ana", "password": PASSWORD}
                )
                failures = len(
                    [e for e in await audit_of(runtime.hub) if e.action is AuditAction.LOGIN_FAILED]
                )
            return locked, failures

    locked, failures = run(main)
    assert locked.status_code == 429 and "Too many failed sign-ins for ana" in locked.text
    assert "expediter_session" not in locked.headers.get("set-cookie", "")
    assert failures == 11


def test_a_sign_in_form_from_another_site_is_refused(tmp_path: Path) -> None:
    async def main() -> httpx.Response:
        async with kitchen_hub(tmp_path) as (runtime, app):
            await add_user(runtime.hub, "ana")
            async with client_for(app) as client:
                return await client.post("/login", data={"name": "ana", "password": PASSWORD, "csrf": "x"})

    answer = run(main)
    assert answer.status_code == 403 and "expediter_session" not in answer.headers.get("set-cookie", "")


# -- roles and locations -------------------------------------------------------------------------------


async def refuse(item: object) -> None:
    raise TerminalError("the printer rejects the ticket")


@asynccontextmanager
async def dead_letters_at_both_locations(tmp_path: Path) -> AsyncIterator[tuple[Hub, Any, Board]]:
    board = Board(behaviour={"printer": refuse})
    db = tmp_path / "hub.db"
    hub = Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, retry=RetryPolicy(0.001, 0.005))
    hub.services.extra["board"] = board
    async with hub:
        await hub.inbox.accept(order_message(1, "L1"))
        await hub.inbox.accept(order_message(2, "L2"))
        await eventually(lambda: len(board.delivered_to("kds")) == 2)

        async def two_dead() -> bool:
            return len(await hub.deliveries.dead_letters()) == 2

        await eventually(two_dead)
        yield hub, create_app(hub, manage_hub=False), board


def test_a_viewer_cannot_replay(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            dead_letters_at_both_locations(tmp_path) as (hub, app, _board),
            signed_in(hub, app, Role.VIEWER) as (viewer, csrf),
        ):
            page = await viewer.get("/")
            tried = await viewer.post("/dashboard/replay", data={"flow": "pos-printer", "csrf": csrf})
            assert "an operator can replay" in page.text and 'action="/dashboard/replay"' not in page.text
            assert tried.status_code == 403 and "viewer is a viewer; this needs an operator" in tried.text
            assert len(await hub.deliveries.dead_letters()) == 2
            [entry] = [e for e in await audit_of(hub) if e.action is AuditAction.REPLAY]
            assert (entry.actor, entry.outcome) == ("viewer", Outcome.REFUSED)

    run(main)


def test_a_user_sees_and_replays_only_their_locations(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            dead_letters_at_both_locations(tmp_path) as (hub, app, board),
            signed_in(hub, app, Role.OPERATOR, ("L2",), name="harbor") as (harbor, csrf),
        ):
            page = await harbor.get("/")
            transfers = await harbor.get("/transfers")
            del board.behaviour["printer"]
            replayed = await harbor.post("/dashboard/replay", data={"flow": "pos-printer", "csrf": csrf})
            hidden = await harbor.post("/dashboard/replay", data={"flow": "pos-bo", "csrf": csrf})
            await eventually(lambda: len(board.delivered_to("printer")) == 1)
            [left] = await hub.deliveries.dead_letters()
            assert left.location_id == "L1"  # L1's dead letter stays for L1's people
            assert 'id="dead-letters"><span class="count">1</span>' in page.text
            assert 'id="flow-pos-bo"' not in page.text and 'id="flow-pos-printer"' in page.text
            assert "@L1</span>" not in transfers.text and "@L2</span>" in transfers.text
            assert replayed.headers["location"].startswith("/?replayed=1&flow=pos-printer")
            assert hidden.status_code == 400  # a flow of L1 only does not exist for them

    run(main)


# -- API tokens and locations --------------------------------------------------------------------------


def test_an_order_or_punch_for_a_location_the_token_does_not_cover_is_403(tmp_path: Path) -> None:
    from tests.web.test_labor_api import LATE_SHIFT

    punch_at_l2 = msgspec.json.encode(msgspec.structs.replace(LATE_SHIFT, location_id="L2"))

    async def main() -> list[httpx.Response]:
        async with kitchen_hub(tmp_path) as (_runtime, app), client_for(app) as client:
            auth = {"Authorization": f"Bearer {L1_TOKEN}"}
            return [
                await client.post("/api/v1/orders", content=order_body("o-2", "L2"), headers=auth),
                await client.post("/api/v1/orders", content=order_body("o-1", "L1"), headers=auth),
                await client.post("/api/v1/punches", content=punch_at_l2, headers=auth),
            ]

    other, own, punch = run(main)
    assert other.status_code == 403 and other.json()["error"] == "this token may not send for location 'L2'"
    assert own.status_code == 202
    assert punch.status_code == 403 and "'L2'" in punch.json()["error"]


# -- paired kitchen devices ----------------------------------------------------------------------------


def test_an_unpaired_device_cannot_bump_and_pairing_works(tmp_path: Path) -> None:
    async def main() -> None:
        async with kitchen_hub(tmp_path) as (runtime, app):
            kitchen = runtime.kitchen
            await kitchen.receive(msgspec.structs.replace(order("o-1"), location_id="L1"))
            [ticket] = kitchen.tickets_for("grill")
            bump = f"/api/v1/kds/grill/tickets/{ticket.id}/bump"
            async with (
                signed_in(runtime.hub, app, Role.OPERATOR, ("L1",), name="ana") as (ana, csrf),
                client_for(app) as screen,
            ):
                unpaired = await screen.post(bump, headers={"X-CSRF-Token": "x"})
                stream = await screen.get("/kds/grill/events")
                first = await screen.get("/kds/grill")
                again = await screen.get("/kds/grill")
                code = code_on(first)
                devices = await ana.get("/devices")
                approve = {
                    "code": code.lower(),
                    "name": "Grill tablet",
                    "location": "L1",
                    "stations": ["grill"],
                }
                approved = await ana.post("/devices/approve", data={**approve, "csrf": csrf})
                claimed = await screen.get("/kds/grill")
                page = await screen.get("/kds/grill")
                token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
                assert token
                without_token = await screen.post(bump)
                other_station = await screen.post(
                    "/api/v1/kds/fry/recall", headers={"X-CSRF-Token": token[1]}
                )
                other_location = await screen.post(
                    "/api/v1/kds/availability",
                    json={"location_id": "L2", "key": "1101", "available": False},
                    headers={"X-CSRF-Token": token[1]},
                )
                bumped = await screen.post(bump, headers={"X-CSRF-Token": token[1]})
                revoke_by_operator = await ana.post("/devices/revoke", data={"device": "1", "csrf": csrf})
            assert unpaired.status_code == 401 and "not paired" in unpaired.json()["error"]
            assert stream.status_code == 401
            assert first.status_code == 401 and re.fullmatch(r"[A-Z2-9]{6}", code)
            assert code_on(again) == code  # the same browser keeps its code while it lasts
            assert code[:3] in devices.text  # the operator sees the waiting code
            assert approved.status_code == 303 and "approved" in approved.headers["location"]
            assert claimed.status_code == 303 and "expediter_device=" in claimed.headers["set-cookie"]
            assert page.status_code == 200 and 'data-station="grill"' in page.text
            assert without_token.status_code == 403 and other_station.status_code == 403
            assert other_location.status_code == 403 and kitchen.is_available("L2", "1101")
            assert bumped.status_code == 200 and bumped.json()["state"] == "bumped"
            assert revoke_by_operator.status_code == 403
            entries = await audit_of(runtime.hub)
            paired = next(e for e in entries if e.action is AuditAction.DEVICE_PAIRED)
            assert paired.actor == "ana" and paired.location_id == "L1" and "Grill tablet" in paired.detail
            done = next(e for e in entries if e.action is AuditAction.BUMP and e.outcome is Outcome.DONE)
            assert done.actor == "device 1 (Grill tablet)" and ticket.id in done.detail

    run(main)


def test_a_revoked_device_must_pair_again(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            kitchen_hub(tmp_path) as (runtime, app),
            signed_in(runtime.hub, app, Role.ADMIN) as (admin, csrf),
            client_for(app) as screen,
        ):
            await pair_screen(runtime.hub, screen, "grill", "L1")
            [device] = await people_of(runtime.hub).devices.all()
            revoked = await admin.post("/devices/revoke", data={"device": str(device.id), "csrf": csrf})
            listing = await admin.get("/devices")
            after = await screen.get("/kds/grill")
            feed = await screen.get("/api/v1/kds/grill/tickets")
            assert revoked.status_code == 303
            assert f'id="device-{device.id}" class="revoked"' in listing.text
            assert after.status_code == 401 and 'id="pairing-code"' in after.text
            assert feed.status_code == 401

    run(main)


def test_a_code_expires_after_ten_minutes(tmp_path: Path, clock: ManualClock) -> None:
    async def main() -> str:
        async with kitchen_hub(tmp_path) as (runtime, app):
            async with (
                signed_in(runtime.hub, app, Role.OPERATOR) as (operator, csrf),
                client_for(app) as screen,
            ):
                code = code_on(await screen.get("/kds/grill"))
                clock.advance((CODE_LIFETIME + timedelta(seconds=1)).total_seconds())
                form = {"code": code, "location": "L1", "stations": ["grill"], "csrf": csrf}
                answer = await operator.post("/devices/approve", data=form)
                fresh = code_on(await screen.get("/kds/grill"))
            assert fresh != code
            return str(answer.headers["location"])

    assert "no+screen+is+showing+the+code" in run(main)


def test_a_screen_sees_only_its_locations_tickets(tmp_path: Path) -> None:
    async def main() -> None:
        async with kitchen_hub(tmp_path) as (runtime, app):
            kitchen = runtime.kitchen
            await kitchen.receive(msgspec.structs.replace(order("o-1"), location_id="L1"))
            await kitchen.receive(msgspec.structs.replace(order("o-2"), location_id="L2"))
            async with client_for(app) as screen:
                await pair_screen(runtime.hub, screen, "grill", "L2")
                listed = (await screen.get("/api/v1/kds/grill/tickets")).json()
                l1_ticket = next(t for t in kitchen.tickets_for("grill") if t.location_id == "L1")
            assert [t["order_id"] for t in listed["tickets"]] == ["o-2"]
            assert l1_ticket.order_id == "o-1"

    run(main)


@pytest.mark.parametrize("role", [Role.VIEWER])
def test_the_audit_and_devices_pages_need_their_roles(tmp_path: Path, role: Role) -> None:
    async def main() -> list[int]:
        async with (
            kitchen_hub(tmp_path) as (runtime, app),
            signed_in(runtime.hub, app, role) as (client, _csrf),
        ):
            return [(await client.get(path)).status_code for path in ("/audit", "/devices")]

    assert run(main) == [403, 403]


def test_an_admin_reads_the_audit_page(tmp_path: Path) -> None:
    async def main() -> str:
        async with (
            kitchen_hub(tmp_path) as (runtime, app),
            signed_in(runtime.hub, app, Role.ADMIN, name="boss") as (client, _csrf),
        ):
            return (await client.get("/audit", params={"since": "1h", "user": "boss"})).text

    page = run(main)
    assert '<td class="flow-id">login</td>' in page and "boss" in page


class LocatedWebhook:
    """A product's webhook whose events name their location (the signature is not the point here)."""

    def verify(self, headers: Any, body: bytes, url: str) -> None:
        return None

    def messages(self, headers: Any, body: bytes) -> list[IncomingMessage]:
        event = msgspec.json.decode(body)
        return [
            IncomingMessage(
                source_system="shop",
                kind="online.order",
                idempotency_key=f"shop:{event['id']}",
                payload=body,
                location_id=event["location"],
            )
        ]


def test_a_webhook_for_a_location_its_system_does_not_serve_is_403(tmp_path: Path) -> None:
    from tests.web.conftest import web_catalog

    catalog = web_catalog(tmp_path / "hub.db")
    shop = catalog.system("shop")
    assert shop is not None
    shop.locations = ["L1"]
    webhook = Connector(
        name="test_webhook",
        title="Located webhooks",
        capabilities=frozenset({Capability.WEBHOOK}),
        make_webhook=lambda context: LocatedWebhook(),
    )
    hub = Hub(catalog, connectors={**TEST_CONNECTORS, "test_webhook": webhook}, deliver=False)

    async def main() -> list[httpx.Response]:
        async with hub, client_for(create_app(hub, manage_hub=False)) as client:
            return [
                await client.post("/api/v1/webhooks/shop", content=b'{"id": "e-1", "location": "L2"}'),
                await client.post("/api/v1/webhooks/shop", content=b'{"id": "e-2", "location": "L1"}'),
            ]

    other, own = run(main)
    assert other.status_code == 403 and other.json()["error"] == "system 'shop' does not serve location 'L2'"
    assert own.status_code == 202


@pytest.mark.slow
def test_serve_with_no_users_refuses_the_dashboard_until_one_is_added(tmp_path: Path) -> None:
    """As a systems manager meets it: ``expediter serve`` on a new database says nobody can sign
    in (the page and the log), takes orders all the same, and asks for a sign-in once
    ``expediter users add`` has run, while it keeps running."""
    import os
    import signal
    import subprocess
    import sys

    from expediter.sim.ports import free_port
    from tests.processes import serve_catalog, serve_command, wait_healthy

    port, config = free_port(), serve_catalog(tmp_path, TOKEN)
    process = subprocess.Popen(
        serve_command(config, port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        with httpx.Client(base_url=base, timeout=10) as client:
            first = client.get("/")
            posted = client.post(
                "/api/v1/orders",
                content=order_body("o-1", "L1"),
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            add = [sys.executable, "-m", "expediter.cli", "users", "add", "gm", "--role", "admin"]
            add += ["--all-locations", "--password-stdin", "-c", str(config)]
            added = subprocess.run(add, input=f"{PASSWORD}\n", capture_output=True, text=True, check=False)
            after = client.get("/")
    finally:
        process.send_signal(signal.SIGTERM)
        logged, _ = process.communicate(timeout=60)
    assert first.status_code == 503 and "No one can sign in yet" in first.text
    assert "expediter users add NAME --role admin --all-locations" in first.text
    assert posted.status_code == 202, posted.text
    assert added.returncode == 0, added.stderr
    assert after.status_code == 303 and after.headers["location"] == "/login?next=%2F"
    assert b"no_users_yet" in logged  # the hub's log says so at start too
