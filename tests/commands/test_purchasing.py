"""``expediter purchasing``: import a vendor file by hand, list its exceptions, resolve them."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from expediter.cli import app
from expediter.engine.hub import Hub
from expediter.operations.purchasing import PurchasingStore
from expediter.sim.distributor import demo_changes, distributor_file, invoice_810
from expediter.web.app import read_catalog
from tests.connectors.x12.test_vendor_flow import ORDER

CATALOG = """
[hub]
database = "hub.db"
data_dir = "data"

[[locations]]
id = "main"
name = "Bistro"
timezone = "America/New_York"

[[systems]]
id = "vendor"
kind = "vendor"
connector = "x12"
owner = "Chef"
[systems.settings]
partner_id = "BROADLINE"
[systems.settings.transport]
inbox_dir = "from_vendor"
upload_dir = "to_vendor"

[[systems]]
id = "inventory"
kind = "inventory"
connector = "csv"
owner = "Chef"

[[flows]]
id = "vendor_in"
from = "vendor"
to = "inventory"
data = "invoice"
level = "file"
trigger = "file_arrival"
transport = "folder"
format = "x12-810"
owner = "Chef"
"""


def test_import_list_and_resolve(tmp_path: Path) -> None:
    config = tmp_path / "expediter.toml"
    config.write_text(CATALOG)

    async def record_po() -> None:
        async with Hub(read_catalog(config), deliver=False) as hub:
            await PurchasingStore(hub.storage).record_po(ORDER)

    asyncio.run(record_po())
    invoice = tmp_path / "810.edi"
    invoice.write_bytes(
        distributor_file([invoice_810(ORDER, demo_changes(ORDER), "77-1", date(2026, 3, 3))], "IN")
    )
    runner = CliRunner()
    imported = runner.invoke(app, ["purchasing", "import", "vendor", str(invoice), "-c", str(config)])
    assert imported.exit_code == 0, imported.output
    assert "invoice 77-1: exceptions" in imported.output
    listed = runner.invoke(app, ["purchasing", "exceptions", "--json", "-c", str(config)])
    found = json.loads(listed.output)
    assert sorted(e["kind"] for e in found) == ["price", "short", "substitution"]
    for item in found:
        done = runner.invoke(app, ["purchasing", "resolve", str(item["id"]), "--accept", "-c", str(config)])
        assert done.exit_code == 0, done.output
    assert "invoice 77-1 from vendor: booked" in done.output
    again = runner.invoke(app, ["purchasing", "import", "vendor", str(invoice), "-c", str(config)])
    assert "duplicate" in again.output
    both = runner.invoke(app, ["purchasing", "resolve", "1", "-c", str(config)])
    assert both.exit_code != 0
