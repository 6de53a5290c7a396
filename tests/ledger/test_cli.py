"""The ledger and recovery commands against a real hub database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import msgspec
import typer
from typer.testing import CliRunner

from expediter.commands.ledger import register
from expediter.engine.deliveries import DeliveryState, RetryPolicy
from expediter.engine.hub import Hub
from expediter.errors import TerminalError, TransientError
from expediter.ledger import TransferOutcome
from expediter.plugin.base import Outbound
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message, sample_catalog


async def refuse(item: Outbound) -> None:
    raise TerminalError("HTTP 400: printer rejects this ticket")


def prepare(tmp_path: Path) -> Path:
    """A database with two dead letters for `pos-printer`; the catalog written beside it."""
    db = tmp_path / "hub.db"
    catalog = sample_catalog(str(db))
    config = tmp_path / "catalog.json"
    config.write_bytes(msgspec.json.encode(catalog))

    async def fill() -> None:
        hub = Hub(catalog, db, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=0.001, cap=0.001))
        hub.services.extra["board"] = Board(behaviour={"printer": refuse})
        async with hub:
            await hub.inbox.accept(order_message(1, "L1"))  # one in each printer lane
            await hub.inbox.accept(order_message(2, "L2"))

            async def two_dead() -> bool:
                return len(await hub.deliveries.dead_letters()) == 2

            await eventually(two_dead)
            await eventually(lambda: len(hub.services.extra["board"].delivered_to("kds")) == 2)

    asyncio.run(fill())
    return config


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def states(config: Path) -> dict[int, DeliveryState]:
    async def read() -> dict[int, DeliveryState]:
        async with Hub(sample_catalog(""), config.parent / "hub.db", deliver=False) as hub:
            return {r.id: r.state for r in await hub.deliveries.records(flow_id="pos-printer")}

    return asyncio.run(read())


def test_transfers_dead_letters_and_replay(tmp_path: Path) -> None:
    config = prepare(tmp_path)
    runner = CliRunner(env={"COLUMNS": "200"})  # a wide table: nothing elided

    listed = runner.invoke(cli(), ["transfers", "--flow", "pos-printer", "-c", str(config)])
    assert listed.exit_code == 0, listed.output
    assert "2 transfers" in listed.output and "dead" in listed.output
    failed = runner.invoke(cli(), ["transfers", "--outcome", "succeeded", "--since", "1h", "-c", str(config)])
    assert "3 transfers" in failed.output and "pos-kds" in failed.output  # kds twice, bo at L1

    dead = runner.invoke(cli(), ["dead-letters", "-c", str(config)])
    assert dead.exit_code == 0 and "2 dead letters" in dead.output and "printer rejects" in dead.output

    first, second = sorted(states(config))
    one = runner.invoke(cli(), ["replay", str(first), "-c", str(config)])
    assert one.exit_code == 0 and "1 dead letter(s) back to pending" in one.output
    assert states(config) == {first: DeliveryState.PENDING, second: DeliveryState.DEAD}

    again = runner.invoke(cli(), ["replay", str(first), "-c", str(config)])
    assert again.exit_code == 1  # not a dead letter any more

    rest = runner.invoke(cli(), ["replay", "--flow", "pos-printer", "--all", "-c", str(config)])
    assert rest.exit_code == 0 and "1 dead letter(s)" in rest.output
    assert set(states(config).values()) == {DeliveryState.PENDING}

    usage = runner.invoke(cli(), ["replay", "-c", str(config)])
    assert usage.exit_code != 0

    from expediter.cli import app

    audit = runner.invoke(app, ["audit", "--json", "-c", str(config)])
    entries = [
        (e["actor_kind"], e["action"], e["target"], e["detail"]) for e in reversed(json.loads(audit.output))
    ]
    assert [entry[1:] for entry in entries] == [
        ("replay", f"ids [{first}]", "1 back to pending"),
        ("replay", f"ids [{first}]", "0 back to pending"),
        ("replay", "pos-printer", "1 back to pending"),
    ]
    assert {entry[0] for entry in entries} == {"command"}


def test_catalog_database_is_found_beside_the_catalog(tmp_path: Path) -> None:
    from expediter.web.app import read_catalog

    config = tmp_path / "site" / "catalog.json"
    config.parent.mkdir()
    catalog = sample_catalog("hub.db")
    config.write_bytes(msgspec.json.encode(catalog))
    assert read_catalog(config).hub.database == str(config.parent.resolve() / "hub.db")


def test_outcome_failed_finds_a_real_time_outage(tmp_path: Path) -> None:
    """A real-time delivery that fails is recorded as retrying, then dead: asking for failed
    transfers (the README's example) finds both, and names each one's own outcome."""
    config = prepare(tmp_path)  # two dead letters for pos-printer

    async def outage() -> None:
        async def down(item: Outbound) -> None:
            raise TransientError("HTTP 503: kitchen screen offline")

        catalog = sample_catalog(str(tmp_path / "hub.db"), retry_limit=1000)
        hub = Hub(catalog, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=0.001, cap=0.001))
        hub.services.extra["board"] = Board(behaviour={"kds": down})
        async with hub:
            await hub.inbox.accept(order_message(3, "L2"))

            async def retried() -> bool:
                return len(await hub.ledger.transfers(outcome=TransferOutcome.RETRYING)) >= 1

            await eventually(retried)

    asyncio.run(outage())
    runner = CliRunner(env={"COLUMNS": "200"})
    found = runner.invoke(cli(), ["transfers", "--outcome", "failed", "--since", "1h", "-c", str(config)])
    assert found.exit_code == 0, found.output
    assert "kitchen screen offline" in found.output and "retrying" in found.output
    assert "printer rejects this ticket" in found.output and "dead" in found.output
    assert "succeeded" not in found.output
    only_dead = runner.invoke(cli(), ["transfers", "--outcome", "dead", "-c", str(config)])
    assert "2 transfers" in only_dead.output and "retrying" not in only_dead.output


def test_replay_of_a_misspelled_flow_names_it_suggests_the_close_ones_and_fails(tmp_path: Path) -> None:
    config = prepare(tmp_path)  # two dead letters for pos-printer
    runner = CliRunner(env={"COLUMNS": "200"})
    typo = runner.invoke(cli(), ["replay", "--flow", "pos-printr", "--all", "-c", str(config)])
    assert typo.exit_code != 0
    assert "pos-printr" in typo.output and "did you mean pos-printer" in typo.output
    assert "back to pending" not in typo.output
    assert set(states(config).values()) == {DeliveryState.DEAD}  # nothing moved

    nothing_close = runner.invoke(cli(), ["replay", "--flow", "zzz", "--all", "-c", str(config)])
    assert nothing_close.exit_code != 0 and "expediter flows" in nothing_close.output

    listing = runner.invoke(cli(), ["dead-letters", "--flow", "pos-printr", "-c", str(config)])
    assert listing.exit_code != 0 and "did you mean pos-printer" in listing.output

    processing = runner.invoke(cli(), ["replay", "--flow", "online#process", "--all", "-c", str(config)])
    assert processing.exit_code == 0 and "0 dead letter(s) back to pending" in processing.output
