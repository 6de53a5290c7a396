"""A real ``expediter serve`` writes one structured stream: every line JSON (the hub's events,
uvicorn's server and access lines, asyncssh's lines), each request's id in its lines and answer."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from expediter.catalog.schema import ApiToken, Catalog, Flow, Hub, Level, System, SystemKind, Trigger
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location
from expediter.sim.ports import free_port
from expediter.sim.sftp_server import SftpServer
from tests.clocks import SUITE_STARTED
from tests.processes import wait_healthy

TOKEN = "log-test-token"
SFTP_PASSWORD_ENV = "EXPEDITER_TEST_SFTP_PASSWORD"


def logging_catalog(folder: Path, sftp: SftpServer) -> Path:
    """A POS that posts orders, an online shop that signs webhooks, and a vendor's SFTP folder
    the hub watches for files (so asyncssh connects, and logs it, as soon as the hub starts)."""
    catalog = Catalog(
        hub=Hub(database=str(folder / "hub.db")),
        locations=[Location(id="L1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(
                id="shop",
                kind=SystemKind.ONLINE_ORDERING,
                connector="online",
                owner="ops",
                settings={"secret": "env:EXPEDITER_TEST_ONLINE_SECRET"},
            ),
            System(
                id="vendor",
                kind=SystemKind.INVENTORY,
                connector="csv",
                owner="chef",
                settings={"transport": sftp.settings(inbox_dir=".", stable_seconds=0)},
            ),
            System(id="inventory", kind=SystemKind.INVENTORY, connector="csv", owner="chef"),
        ],
        flows=[
            Flow(
                id="counts-in",
                from_="vendor",
                to="inventory",
                data="inventory_counts",
                level=Level.FILE,
                trigger=Trigger.FILE_ARRIVAL,
                transport="sftp",
                owner="chef",
            )
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def order(order_id: str) -> dict[str, Any]:
    return {
        "id": order_id,
        "location_id": "L1",
        "opened_at": SUITE_STARTED.isoformat(),
        "lines": [
            {
                "id": "1",
                "item_id": "burger",
                "name": "Burger",
                "quantity": "1",
                "unit_price": {"amount": 1200, "currency": "USD"},
            }
        ],
    }


def log_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the file as JSON (a line that is not JSON fails the test, naming it)."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            found.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"{path.name} line {number} is not JSON: {line!r}")
    return found


def wait_for_line(path: Path, needle: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while needle not in path.read_text(encoding="utf-8"):
        assert process.poll() is None, path.read_text(encoding="utf-8")
        assert time.monotonic() < deadline, f"no {needle!r} in the log within {timeout:.0f} s"
        time.sleep(0.05)  # polling for the log line, not hiding a race


@pytest.mark.slow
@pytest.mark.service
def test_serve_writes_one_json_stream_with_request_ids(tmp_path: Path) -> None:
    (tmp_path / "sftp").mkdir()
    sftp = SftpServer(tmp_path / "sftp", username="bistro")
    sftp.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-c", "from expediter.cli import main; main()", "serve"]
    command += [str(logging_catalog(tmp_path, sftp)), "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, SFTP_PASSWORD_ENV: sftp.password, "EXPEDITER_TEST_ONLINE_SECRET": "shh"}
    env.pop("EXPEDITER_LOG_FORMAT", None)  # JSON because the stream is a file, not a terminal
    stderr, stdout = tmp_path / "stderr.log", tmp_path / "stdout.log"
    with stderr.open("wb") as err, stdout.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, start_new_session=True)
    try:
        wait_healthy(base, process)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        given = httpx.post(
            f"{base}/api/v1/orders", json=order("A1"), headers={**auth, "X-Request-Id": "till-7.0042"}
        )
        made = httpx.post(f"{base}/api/v1/orders", json=order("A2"), headers=auth)
        forged = httpx.get(
            f"{base}/healthz", headers={"X-Request-Id": b"\x22}, {\x22level\x22: \x22critical\x22"}
        )
        unsigned = httpx.post(f"{base}/api/v1/webhooks/shop", content=b"{}")
        missing = httpx.get(f"{base}/no-such-page")
        wait_for_line(stderr, '"logger": "asyncssh"', process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        sftp.shutdown()

    assert (given.status_code, made.status_code, unsigned.status_code, missing.status_code) == (
        202,
        202,
        401,
        404,
    )
    assert given.headers["x-request-id"] == "till-7.0042"
    generated = {r.headers["x-request-id"] for r in (made, forged, unsigned, missing)}
    assert len(generated) == 4 and all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]+", rid) for rid in generated)

    lines = log_lines(stderr) + log_lines(stdout)
    assert all({"timestamp", "level", "logger", "event"} <= set(line) for line in lines)
    loggers = {line["logger"] for line in lines}
    assert {"asyncssh", "uvicorn.error", "uvicorn.access", "expediter.serve"} <= loggers, loggers
    by_id: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        if "request_id" in line:
            by_id.setdefault(line["request_id"], []).append(line)
    for response in (given, made, forged, unsigned, missing):
        rid = response.headers["x-request-id"]
        [access] = [line for line in by_id[rid] if line["event"] == "http_request"]
        assert (access["method"], access["path"], access["status"]) == (
            response.request.method,
            response.request.url.path,
            response.status_code,
        )
    refused = [line["event"] for line in by_id[unsigned.headers["x-request-id"]]]
    assert "webhook_signature_invalid" in refused  # the hub's own line of that request
    assert not any("request_id" in line for line in lines if line["logger"] == "asyncssh")
