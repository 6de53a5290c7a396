from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from expediter.commands.simulate import register
from expediter.model.order import order_totals
from expediter.sim.output import read_orders, read_punches
from tests.sim.receiver import TOKEN, Receiver, running


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("version")
    def version() -> None:  # a second command keeps "simulate" a named subcommand
        """Unused."""

    return app


def _simulate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["simulate", *args], env={"EXPEDITER_TOKEN": None})
    return result.exit_code, result.output


def test_simulate_writes_orders_and_punches_for_several_locations_and_days(tmp_path: Path) -> None:
    out, punches = tmp_path / "orders.jsonl", tmp_path / "punches.jsonl"
    base = ["--locations", "3", "--days", "2", "--start", "2026-11-27", "--seed", "5", "--scale", "0.02"]
    code, output = _simulate(*base, "--out", str(out), "--punches", str(punches))
    assert code == 0, output
    assert "wrote 180 orders" in output
    orders = read_orders(out)
    assert len(orders) == 3 * 2 * 30
    assert {o.location_id for o in orders} == {"L001", "L002", "L003"}
    assert {str(o.business_date) for o in orders} == {"2026-11-27", "2026-11-28"}
    assert all(order_totals(o).paid == order_totals(o).total for o in orders)
    assert {p.location_id for p in read_punches(punches)} == {"L001", "L002", "L003"}
    assert not list(tmp_path.glob("*.partial"))

    again = tmp_path / "again.jsonl"
    assert _simulate(*base, "--out", str(again))[0] == 0
    assert again.read_bytes() == out.read_bytes()


def test_simulate_posts_to_a_hub_and_reports_the_counts(tmp_path: Path) -> None:
    with running(Receiver()) as receiver:
        args = ["--start", "2026-11-27", "--scale", "0.01", "--post", receiver.url, "--token", TOKEN]
        code, output = _simulate(*args, "--rate", "0")
        repeat_code, repeat = _simulate(*args, "--rate", "0")
    assert code == 0, output
    assert "15 accepted, 0 duplicate, 0 rejected, 0 failed" in output
    assert repeat_code == 0 and "0 accepted, 15 duplicate" in repeat
    assert len(receiver.keys) == 15


def test_simulate_refuses_bad_arguments(tmp_path: Path) -> None:
    code, output = _simulate("--start", "27/11/2026", "--out", str(tmp_path / "x.jsonl"))
    assert code == 2 and "2026-11-27" in output
    code, output = _simulate("--start", "2026-11-27")
    assert code == 2 and "--out" in output
    code, output = _simulate("--post", "http://127.0.0.1:9", "--token", "")
    assert code == 2 and "--token" in output
    assert not (tmp_path / "x.jsonl").exists()
