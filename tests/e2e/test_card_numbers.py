"""Full card numbers sent every way the hub can be reached (an order's text touching letters and
dashes, an Idempotency-Key, a count sheet that arrives in a watched folder) are refused or masked:
afterwards no database file, log or output of the hub holds any of them."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec

from expediter.catalog.schema import ApiToken, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location
from expediter.sim.ports import free_port
from tests.clocks import SUITE_STARTED
from tests.processes import serve_command, wait_healthy

TOKEN = "card-numbers-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPENED = (SUITE_STARTED - timedelta(minutes=20)).isoformat()
# Published test numbers of five networks, each written the way it is sent below.
SENT = {
    "4539578763621486": "CC-4539578763621486",
    "4111111111111111": "4111111111111111-exp",
    "4012888888881881": "card4012888888881881",
    "5555555555554444": "5555555555554444",
    "378282246310005": "pay-378282246310005",
    "6011111111111117": "6011-1111-1111-1117",
}


def catalog_file(folder: Path) -> Path:
    drop = {"inbox_dir": str(folder / "drop"), "stable_seconds": 0.05}
    catalog = Catalog(
        hub=Hub(database=str(folder / "hub.db"), data_dir=str(folder / "data")),
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(
                id="kds",
                kind=SystemKind.KDS,
                connector="kds",
                owner="chef",
                settings={"stations": {"grill": {}}},
            ),
            System(
                id="count_app",
                kind=SystemKind.INVENTORY,
                connector="csv",
                owner="chef",
                settings={"transport": drop},
            ),
            System(id="inventory", kind=SystemKind.INVENTORY, connector="csv", owner="chef"),
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
                description="What the test sends through the hub.",
                impact="The test's orders stop.",
                contact="chef@bistro.example",
            ),
            Flow(
                id="counts-in",
                from_="count_app",
                to="inventory",
                data="inventory_counts",
                level=Level.FILE,
                trigger=Trigger.FILE_ARRIVAL,
                transport="folder",
                owner="chef",
                description="What the test sends through the hub.",
                impact="The test's orders stop.",
                contact="chef@bistro.example",
            ),
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def order(order_id: str, **fields: Any) -> dict[str, Any]:
    line = {"id": "1", "name": "Burger", "quantity": "1", "unit_price": {"amount": 1250}}
    return {"id": order_id, "location_id": "L1", "opened_at": OPENED, "lines": [line], **fields}


def punch() -> dict[str, Any]:
    return {"id": "punch-1", "employee_id": "E1", "location_id": "L1", "job_code": "cook", "clock_in": OPENED}


def post_everything(base: str) -> list[httpx.Response]:
    """Each number once, through the door it would come through."""
    with httpx.Client(base_url=base, timeout=30) as client:
        answers = [
            client.post("/api/v1/orders", json=order("o-1", notes=SENT["4539578763621486"]), headers=AUTH),
            client.post(
                "/api/v1/orders", json=order("o-2", customer_name=SENT["4111111111111111"]), headers=AUTH
            ),
            client.post(
                "/api/v1/orders",
                json=order("o-3", lines=[{**order("x")["lines"][0], "notes": SENT["4012888888881881"]}]),
                headers=AUTH,
            ),
            client.post(
                "/api/v1/orders",
                json=order("o-4"),
                headers={**AUTH, "Idempotency-Key": SENT["5555555555554444"]},
            ),
            client.post(
                "/api/v1/punches", json=punch(), headers={**AUTH, "Idempotency-Key": SENT["378282246310005"]}
            ),
        ]
        # A plain order goes through, so the kitchen and the ledger have something to keep.
        answers.append(client.post("/api/v1/orders", json=order("o-5"), headers=AUTH))
    return answers


def wait_for_transfer(database: Path, flow: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with sqlite3.connect(database) as conn:
            found = conn.execute("SELECT COUNT(*) FROM transfers WHERE flow_id = ?", (flow,)).fetchone()[0]
        if found:
            return
        time.sleep(0.1)  # waiting for the watcher's first poll, not hiding a race
    raise AssertionError(f"no transfer of {flow} was recorded")


def files_under(folder: Path) -> list[Path]:
    """Every file the hub or this test wrote, except the sender's own refused sheet, which the hub
    moved aside into the watched folder's failed/ unchanged (it is the sender's data, not ours)."""
    return [p for p in folder.rglob("*") if p.is_file() and "failed" not in p.relative_to(folder).parts]


def test_no_card_number_sent_is_kept_in_any_database_log_or_output(tmp_path: Path) -> None:
    config = catalog_file(tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    sheet = f"ingredient,unit,quantity\nbeef,kg,2\nbun,each,{SENT['6011111111111117']}\n"
    (drop / "counts_L1_20261126.csv").write_text(sheet)
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(serve_command(config, port), stdout=log, stderr=log, env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        answers = post_everything(base)
        wait_for_transfer(tmp_path / "hub.db", "counts-in", process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()
    listing = subprocess.run(
        [sys.executable, "-c", "from expediter.cli import main; main()", "transfers", "-c", str(config)],
        capture_output=True,
        env={**os.environ, "COLUMNS": "400"},
    )
    (tmp_path / "transfers.txt").write_bytes(listing.stdout + listing.stderr)
    responses = b"\n".join(answer.content for answer in answers)
    (tmp_path / "responses.json").write_bytes(responses)

    assert [a.status_code for a in answers] == [422, 422, 422, 422, 422, 202], responses
    assert b"card number" in listing.stdout and b"counts_L1_20261126.csv" in listing.stdout
    kept = files_under(tmp_path)
    assert {"hub.db", "serve.log", "transfers.txt"} <= {p.name for p in kept}
    for path in kept:
        data = path.read_bytes()
        for digits, written in SENT.items():
            assert digits.encode() not in data, f"{digits} in {path.name}"
            assert written.encode() not in data, f"{written} in {path.name}"
