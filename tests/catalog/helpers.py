"""A small valid catalog as TOML text; tests derive broken ones from it by replacing one line."""

from __future__ import annotations

from pathlib import Path

SERVER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJVC7wqTaFi9OEyPC3KfFlS/oRuqPo5so6yNRq5auH0T"
"""An SFTP server's public key line, as ``ssh-keyscan -t ed25519 HOST`` prints it (a public key:
nothing secret)."""

VALID = """
[hub]
database = "hub.db"

[[locations]]
id = "main"
name = "Main"
timezone = "America/New_York"
day_start = "04:00"

[[systems]]
id = "pos"
kind = "pos"
connector = "folder"
owner = "Dana"
[systems.settings]
inbox_dir = "pos-in"

[[systems]]
id = "back_office"
kind = "back_office"
connector = "sftp"
owner = "Lee"
[systems.settings]
host = "sftp.example.com"
username = "bistro"
host_key = "{SERVER_KEY}"
password = "env:TEST_BO_PASSWORD"

[[flows]]
id = "sales"
from = "pos"
to = "back_office"
data = "sales_summary"
level = "file"
trigger = "schedule"
schedule = "30 4 * * *"
expected_by = "06:00"
transport = "folder"
owner = "Lee"
contact = "lee@bistro.example"
description = "The night's sales summary for the back office."
impact = "The back office has no sales for the night."

[[flows]]
id = "orders"
from = "pos"
to = "back_office"
data = "orders"
level = "realtime"
trigger = "event"
transport = "http"
owner = "Dana"
contact = "+1 212 555 0100"
description = "Each order, as the POS rings it."
impact = "The back office misses orders."

[[alert_channels]]
id = "log"
kind = "log"

[[alert_routes]]
id = "default"
channels = ["log"]

[[api_tokens]]
name = "pos"
sha256 = "sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
systems = ["pos"]
"""

VALID = VALID.replace("{SERVER_KEY}", SERVER_KEY)

SECRET_ENV = {"TEST_BO_PASSWORD": "hunter2-not-printed"}


def write_catalog(folder: Path, text: str = VALID, name: str = "expediter.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def replaced(old: str, new: str, text: str = VALID) -> str:
    """``text`` with exactly one ``old`` replaced (fails loudly if the test's anchor is gone)."""
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)
