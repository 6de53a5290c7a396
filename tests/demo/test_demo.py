"""`expediter demo` as a user runs it: a real process, its URLs answer, the nightly files land."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.service]

URL = re.compile(r"^\s*(?P<name>[A-Za-z][\w ()-]*?)\s{2,}(?P<url>http://127\.0\.0\.1:\d+\S*)\s*$")
SIGN_IN = re.compile(r"^\s*Sign in as\s{2,}(?P<name>\w+), password (?P<password>\S+)\s*$")
FIELD = re.compile(r'name="csrf" value="([^"]+)"')
CODE = re.compile(r'id="pairing-code">([A-Z0-9 ]+)<')


def _read_urls(process: subprocess.Popen[str], deadline: float) -> dict[str, str]:
    """The banner's name → URL lines (and the demo admin's name and password, under ``-user``
    and ``-password``), read until the nightly close has been printed."""
    urls: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        match, signing_in = URL.match(line), SIGN_IN.match(line)
        if match:
            urls[match["name"].strip()] = match["url"]
        if signing_in:
            urls["-user"], urls["-password"] = signing_in["name"], signing_in["password"]
        if line.startswith("Nightly close") or time.monotonic() > deadline:
            break
    return urls


def _sign_in(client: httpx.Client, urls: dict[str, str]) -> None:
    """As the banner says: the demo admin and the printed password."""
    login = urls["Dashboard"] + "login"
    token = FIELD.search(client.get(login).text)
    assert token
    form = {"csrf": token[1], "name": urls["-user"], "password": urls["-password"], "next": "/"}
    assert client.post(login, data=form).status_code == 303


def _pair(client: httpx.Client, urls: dict[str, str]) -> None:
    """One browser, paired for every station at once on the devices page."""
    code = CODE.search(client.get(urls["KDS grill"]).text)
    devices = urls["Pair kitchen screens"]
    token = FIELD.search(client.get(devices).text)
    assert code and token
    stations = ["grill", "fry", "cold", "bar", "expo"]
    form = {"csrf": token[1], "code": code[1], "name": "pass", "location": "L001", "stations": stations}
    assert client.post(devices + "/approve", data=form).status_code == 303
    assert client.get(urls["KDS grill"]).status_code == 303  # the screen takes its credential


def test_demo_prints_its_urls_serves_them_and_closes_the_night(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    command = [sys.executable, "-m", "expediter.cli", "demo", "--dir", str(folder), "--port", "0"]
    command += ["--exit-after", "12", "--pos-down", "5"]
    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        urls = _read_urls(process, time.monotonic() + 120)
        names = {"Dashboard", "Flow diagram", "KDS grill", "KDS expo", "Health", "-user", "-password"}
        assert names <= set(urls), sorted(urls)
        with httpx.Client(timeout=10) as client:
            assert client.get(urls["Dashboard"]).status_code == 303  # to the sign-in page
            _sign_in(client, urls)
            _pair(client, urls)
            for name in ("Dashboard", "Flow diagram", "KDS grill", "KDS expo", "Health", "Metrics"):
                assert client.get(urls[name]).status_code == 200, name
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, rest
    assert "8/8 nightly files delivered" in rest, rest
    purchase_orders = list((folder / "sftp" / "vendor" / "inbound").glob("850_*.edi"))
    assert len(purchase_orders) == 1 and purchase_orders[0].read_bytes().startswith(b"ISA*")
    back_office = sorted(p.name for p in (folder / "sftp").glob("*.csv"))
    assert [name.split("_v1_")[0] for name in back_office] == ["labor", "product_mix", "sales_summary"]
    journals = list((folder / "out" / "accounting").glob("*.beancount"))
    assert journals
    bean_check = Path(sys.executable).parent / "bean-check"
    for journal in journals:  # beancount's own checker accepts every journal the demo writes
        checked = subprocess.run([str(bean_check), str(journal)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, (journal.name, checked.stdout, checked.stderr)
    [journal] = (folder / "out" / "accounting").glob("journal_*.beancount")
    assert (folder / "out" / "payroll" / "PRBISEPI.csv").exists()
    assert_yesterday_stayed_off_the_screens(folder, journal.stem.rsplit("_", 1)[-1])


def assert_yesterday_stayed_off_the_screens(folder: Path, yesterday: str) -> None:
    """The demo rings in yesterday's whole day first: every check went through the kitchen (a
    delivery to the kds system), and none of them reached a screen; today's live checks did."""
    with sqlite3.connect(folder / "expediter.db") as hub:
        delivered = hub.execute(
            "SELECT COUNT(*) FROM deliveries WHERE destination = 'kds' AND state = 'delivered'"
        ).fetchone()[0]
        on_screens = [row[0] for row in hub.execute("SELECT DISTINCT order_id FROM kitchen_tickets")]
    assert delivered > 1000
    assert [o for o in on_screens if f"-{yesterday}-" in o] == []
    assert any(o.startswith("L001-") for o in on_screens), on_screens
