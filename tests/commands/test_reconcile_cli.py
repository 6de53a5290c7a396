"""`expediter reconcile` and `expediter heal` as a manager runs them: a night whose check was edited
after the close differs (exit 1, the record named), `heal --dry-run` lists it, `heal` re-sends it,
and the next `reconcile` agrees (exit 0)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from expediter.cli import app
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs
from expediter.model.money import Money
from expediter.model.order import Line
from tests.engine.reconcile_support import (
    LOCATION,
    folder_catalog,
    last_night,
    nightly_flow,
    store,
    store_day,
)

WIDE = {"COLUMNS": "200"}


def test_reconcile_finds_the_edited_check_heal_resends_the_night_and_it_agrees(tmp_path: Path) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal"), nightly_flow("nightly-sales")])
    night = last_night()

    async def close_then_edit() -> str:
        async with Hub(catalog, deliver=False) as hub:
            orders, _ = await store_day(hub, night)
            for flow in catalog.flows:
                await FileJobs(hub).run(flow.id, LOCATION.id, night)
            pie = Line(id="late", name="Pie", quantity=Decimal(1), unit_price=Money(650), category="Desserts")
            edited = msgspec.structs.replace(
                orders[1], version=orders[1].version + 1, lines=[*orders[1].lines, pie]
            )
            await store(hub, "orders", edited, night)
            return edited.id

    edited = asyncio.run(close_then_edit())
    config = tmp_path / "catalog.json"
    config.write_bytes(msgspec.json.encode(catalog))
    cli = CliRunner()
    args = ["--date", str(night), "--catalog", str(config)]

    differs = cli.invoke(app, ["reconcile", *args, "--check", "sales", "--json"], env=WIDE)
    assert differs.exit_code == 1, differs.output
    [sales] = json.loads(differs.output)
    assert sales["state"] == "differ" and {d["record"] for d in sales["differences"]} == {edited}

    printed = cli.invoke(app, ["reconcile", *args], env=WIDE)
    assert (
        printed.exit_code == 1
        and edited in printed.output
        and "version 1, the POS version 2" in printed.output
    )

    listed = cli.invoke(app, ["heal", "--dry-run", "--catalog", str(config)], env=WIDE)
    assert listed.exit_code == 1 and "changed" in listed.output and "(dry run)" in listed.output
    healed = cli.invoke(app, ["heal", "--catalog", str(config), "--json"], env=WIDE)
    assert healed.exit_code == 0, healed.output
    assert {(n["flow_id"], n["outcome"]) for n in json.loads(healed.output)} == {
        ("nightly-journal", "resent"),
        ("nightly-sales", "resent"),
    }
    agrees = cli.invoke(app, ["reconcile", *args], env=WIDE)
    assert agrees.exit_code == 0, agrees.output
    assert "differ" not in agrees.output
