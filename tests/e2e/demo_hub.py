"""The demo's pieces, started for a test: its catalog (the real template), the simulated POS and
marketplace answers, the back office's SFTP server, the virtual grill printer, and a Runtime on it.

The hub's HTTP app is reached in-process (``httpx.ASGITransport``), the POS stand-in over loopback.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import msgspec
import pytest

from expediter.catalog.schema import Catalog
from expediter.check.catalog import checked_catalog
from expediter.connectors.online.signature import signed_headers
from expediter.demo.run import SECRET_ENV, recipes_path, serve_in_background, stop_server, write_catalog
from expediter.model import clock
from expediter.model.location import Location
from expediter.runtime import Runtime
from expediter.sim.day import simulate_day
from expediter.sim.online import iter_online_payloads
from expediter.sim.ports import free_port
from expediter.sim.pos_standin import PosStandIn
from expediter.sim.printer import VirtualPrinter
from expediter.sim.sftp_server import SftpServer
from expediter.sim.staff import staff_roster
from expediter.web.app import create_app


@dataclass
class DemoHub:
    runtime: Runtime
    catalog: Catalog
    catalog_file: Path
    client: httpx.AsyncClient
    pos: PosStandIn
    online_secret: str
    token: str
    folder: Path

    @property
    def location(self) -> Location:
        return self.catalog.locations[0]

    async def post(self, path: str, item: msgspec.Struct, key: str) -> None:
        """``item`` posted to the hub's API as the POS posts it."""
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        answer = await self.client.post(path, content=msgspec.json.encode(item), headers=headers)
        assert answer.status_code in (200, 202), answer.text

    async def staff(self, day: date) -> None:
        """The roster and the day's punches, as the POS posts them."""
        for employee in staff_roster(self.location):
            await self.post("/api/v1/employees", employee, f"emp:{employee.id}")
        for punch in simulate_day(self.location, day, seed=11, scale=0.05).punches:
            await self.post("/api/v1/punches", punch, f"punch:{punch.id}:{punch.version}")

    async def online_order(self, number: int = 0) -> dict[str, object]:
        """A signed marketplace order placed now, posted to the hub's webhook; its payload."""
        return await post_online_order(self.client, self.location, self.online_secret, number)


async def post_online_order(
    client: httpx.AsyncClient, location: Location, secret: str, number: int = 0, system: str = "online"
) -> dict[str, object]:
    """A signed marketplace order placed now, posted to ``/api/v1/webhooks/<system>``; its payload."""
    today = location.business_date_for(clock.now())
    payload = list(iter_online_payloads(location, today, seed=11, count=number + 1))[number][1]
    now = clock.now().replace(microsecond=0)
    payload |= {"placed_at": now.isoformat(), "pickup_at": (now + timedelta(minutes=20)).isoformat()}
    body = msgspec.json.encode(payload)
    answer = await client.post(
        f"/api/v1/webhooks/{system}", content=body, headers=signed_headers(secret, body)
    )
    assert answer.status_code == 202, answer.text
    return payload


@contextlib.asynccontextmanager
async def demo_hub(folder: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DemoHub]:
    """Everything ``expediter demo`` wires, minus its story (no seeded day, no live traffic)."""
    folder.mkdir(parents=True, exist_ok=True)
    for side in ("inbound", "outbound"):
        (folder / "sftp" / "vendor" / side).mkdir(parents=True)
    async with contextlib.AsyncExitStack() as stack:
        sftp = SftpServer(folder / "sftp", username="bistro")
        sftp.start()
        stack.callback(sftp.shutdown)
        printer = await VirtualPrinter(path=folder / "printer.txt").start()
        stack.push_async_callback(printer.stop)
        pos = PosStandIn()
        pos_server, pos_port = await serve_in_background(pos.app(), 0)
        stack.push_async_callback(stop_server, pos_server)
        online_secret, token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        monkeypatch.setenv(SECRET_ENV["pos_token"], secrets.token_urlsafe(16))
        monkeypatch.setenv(SECRET_ENV["online_secret"], online_secret)
        monkeypatch.setenv(SECRET_ENV["sftp_password"], sftp.password)
        catalog_file = write_catalog(
            folder,
            {
                "hub_port": free_port(),
                "pos_port": pos_port,
                "printer_port": printer.port,
                "sftp_port": sftp.port,
                "sftp_host_key": sftp.host_key_line,
                "out_dir": str(folder / "out"),
                "recipes": recipes_path(folder),
                "pos_token_hash": "sha256:" + hashlib.sha256(token.encode()).hexdigest(),
            },
        )
        catalog = checked_catalog(catalog_file)
        runtime = Runtime(catalog, schedule=False, watch=False)
        runtime.hub.services.extra["virtual_printer"] = printer
        await runtime.start()
        stack.push_async_callback(runtime.stop)
        transport = httpx.ASGITransport(app=create_app(runtime.hub, manage_hub=False))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://localhost")
        )
        yield DemoHub(runtime, catalog, catalog_file, client, pos, online_secret, token, folder)
