"""Ingest benchmark: durably acknowledged orders/s against a bare endpoint on the same server.

Starts the hub as a user runs it (``expediter serve``: uvicorn, httptools, uvloop; one
SO_REUSEPORT socket per worker; SQLite on disk in WAL with ``synchronous=FULL``) on loopback,
drives it with ``wrk`` (50 connections, a Lua script posting a unique ~1 KB canonical order per
request, one wrk thread) and prints requests/s, p50/p99 latency, the hub's CPU time per order
(every process and thread of it, from ``/proc``) and how much of the machine's CPU time was left
idle (``/proc/stat``: a run held up by waits leaves more of it) for:

- ``bare``: ``POST /api/v1/_bench/bare``: the same token check, card scan, decode, validation and
  business date as the real endpoint, nothing stored;
- ``durable``: ``POST /api/v1/orders``: each 202 is sent only after the order's transaction is
  fsynced (group commit).

The two run back to back, ``--rounds`` times (default 3 × 6 s each); the summary is the median of
the rounds, and the ratio is the median of each round's own ratio, because a shared machine drifts
(the same run measured 10k–13k durable orders/s minutes apart). At the end the stored rows are
counted, so an acknowledgement that was not stored would show, and each worker's group-commit
figures are printed (one ``storage`` line per worker: with several workers, uneven batch sizes mean
the 50 connections were shared out unevenly).
Usage: ``.venv/bin/python bench/ingest.py [--workers 2] [--rounds 3] [--duration 6]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec

from expediter.catalog.schema import ApiToken, Catalog, Hub, System, SystemKind
from expediter.catalog.secrets import hash_token
from expediter.model.location import Location
from expediter.model.order import Order
from expediter.sim.ports import free_port

TOKEN = "bench-token"
LUA = Path(__file__).with_name("ingest_orders.lua")


def template() -> bytes:
    """A realistic ~1 KB check as a POS would send it (defaults left out): three lines, nested
    modifiers, tax, a card payment with a tip. Checked against the canonical model first."""
    money = lambda amount: {"amount": amount, "currency": "USD"}  # noqa: E731
    order = {
        "id": "__ID__",
        "location_id": "L1",
        "opened_at": "2026-05-01T18:30:00-04:00",
        "source_system": "pos",
        "table": "12",
        "guest_count": 3,
        "employee_id": "emp-7",
        "lines": [
            {
                "id": "1",
                "name": "Double Smash Burger",
                "quantity": "2",
                "unit_price": money(1450),
                "category": "burgers",
                "stations": ["grill"],
                "modifiers": [
                    {
                        "name": "Side",
                        "modifiers": [
                            {"name": "Sweet potato fries", "unit_price": money(150), "station": "fry"}
                        ],
                    },
                    {"name": "No onions", "action": "remove"},
                ],
            },
            {
                "id": "2",
                "name": "Caesar Salad",
                "quantity": "1",
                "unit_price": money(1100),
                "category": "salads",
                "stations": ["cold"],
                "modifiers": [{"name": "Add chicken", "unit_price": money(500)}],
            },
            {
                "id": "3",
                "name": "Lemonade",
                "quantity": "3",
                "unit_price": money(450),
                "category": "drinks",
                "stations": ["bar"],
            },
        ],
        "taxes": [{"name": "Sales tax", "amount": money(494), "rate": "0.08875"}],
        "payments": [
            {
                "id": "p1",
                "tender": "card",
                "amount": money(6064),
                "tip": money(1100),
                "card_brand": "visa",
                "last4": "4242",
            }
        ],
    }
    body = msgspec.json.encode(order)
    msgspec.json.decode(body, type=Order)  # the benchmark posts valid canonical orders only
    return body


def write_catalog(folder: Path) -> Path:
    catalog = Catalog(
        hub=Hub(database=str(folder / "bench.db")),
        locations=[Location(id="L1", name="Bench", timezone="America/New_York")],
        systems=[System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="bench")],
        api_tokens=[ApiToken(name="bench", sha256=hash_token(TOKEN), systems=["pos"])],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def start_server(config: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """The hub as a user runs it: ``expediter serve --workers N`` (one SO_REUSEPORT socket per
    worker process, httptools, uvloop)."""
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from expediter.cli import main; main()",
        "serve",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "EXPEDITER_CATALOG": str(config), "EXPEDITER_BENCH_BARE": "1"}
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                time.sleep(0.5 * workers)  # let every worker finish starting
                return process, base
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the hub did not start")


def run_wrk(base: str, path: str, body_file: Path, args: argparse.Namespace) -> dict[str, float]:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        str(LUA),
        base,
        "--",
        path,
        TOKEN,
        str(body_file),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRK_RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("WRK_RESULT "))
    result["rate"] = (result["requests"] - result["non2xx"]) / (result["duration_us"] / 1e6)
    return result


def worker_stats(base: str, workers: int) -> list[dict[str, float]]:
    """Each worker's group-commit figures: a new connection per request reaches a random worker,
    so ask until every worker has answered (or give up after a while)."""
    found: dict[int, dict[str, float]] = {}
    for _ in range(50 * workers):
        stats = httpx.get(f"{base}/api/v1/_bench/storage", timeout=10).json()
        found[int(stats.get("pid", 0))] = stats
        if len(found) >= workers:
            break
    return sorted(found.values(), key=lambda stats: -stats["writes"])


def line(name: str, result: dict[str, float]) -> str:
    errors = int(sum(result.get(kind, 0) for kind in ("non2xx", "connect", "read", "write", "timeout")))
    return (
        f"{name:8} {result['rate']:>8,.0f} orders/s  p50 {result['p50_us'] / 1000:5.2f} ms  "
        f"p99 {result['p99_us'] / 1000:6.2f} ms  CPU {result['cpu_us']:4.0f} µs/order  "
        f"machine idle {result['idle']:4.0%}" + (f"  errors {errors}" if errors else "")
    )


def report(label: str, bare: dict[str, float], durable: dict[str, float]) -> None:
    print(f"{label:8} {line('bare', bare)}")
    print(f"{'':8} {line('durable', durable)}   ratio {durable['rate'] / bare['rate']:.2f}")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the hub: the ``serve`` process and its workers, every thread."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    ticks = 0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """All CPUs' time since boot from ``/proc/stat``: (idle or waiting for the disk, total)."""
    fields = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)


def measured(base: str, path: str, body: Path, args: argparse.Namespace, pid: int) -> dict[str, float]:
    """One wrk run, with the hub's CPU time per answered request and the share of the machine's
    CPU time left idle (a run bound by waits rather than by the CPU leaves more of it)."""
    before, (idle_before, total_before) = server_cpu_seconds(pid), machine_ticks()
    result = run_wrk(base, path, body, args)
    result["cpu_us"] = (server_cpu_seconds(pid) - before) / max(result["requests"], 1) * 1e6
    idle, total = machine_ticks()
    result["idle"] = (idle - idle_before) / max(total - total_before, 1)
    return result


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=1, help="expediter serve --workers")
    parser.add_argument("--duration", type=int, default=6, help="seconds per run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="bare then durable, this many times; the figures are medians (a shared machine drifts)",
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (one drives 50 connections and leaves a core)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    bares: list[dict[str, float]] = []
    durables: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="expediter-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        folder = Path(tmp)
        body = folder / "order.json"
        body.write_bytes(template())
        process, base = start_server(write_catalog(folder), args.workers)
        print(
            f"expediter ingest: {len(template())} B orders, {args.connections} connections, "
            f"{args.rounds} rounds of {args.duration} s each, {args.workers} worker(s), "
            f"{os.cpu_count()} cores, SQLite WAL synchronous=FULL"
        )
        try:
            run_wrk(base, "/api/v1/_bench/bare", body, argparse.Namespace(**{**vars(args), "duration": 2}))
            for number in range(1, args.rounds + 1):
                bares.append(measured(base, "/api/v1/_bench/bare", body, args, process.pid))
                durables.append(measured(base, "/api/v1/orders", body, args, process.pid))
                report(f"round {number}", bares[-1], durables[-1])
            storage = worker_stats(base, args.workers)
        finally:
            process.terminate()
            process.wait(timeout=60)
        with sqlite3.connect(folder / "bench.db") as conn:
            stored = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    acknowledged = int(sum(run["requests"] - run["non2xx"] for run in durables))
    keys = ("rate", "p50_us", "p99_us", "cpu_us", "idle")
    bare = {key: median([run[key] for run in bares]) for key in keys}
    durable = {key: median([run[key] for run in durables]) for key in keys}
    print("median   " + line("bare", bare))
    print("median   " + line("durable", durable))
    ratios = [d["rate"] / b["rate"] for b, d in zip(bares, durables, strict=True)]
    for stats in storage:
        print(
            f"storage  pid {stats.get('pid', '?')}: {stats['writes']:,} writes, "
            f"{stats['writes_per_commit']} per commit, commit (fsync) mean {stats['mean_commit_ms']} ms, "
            "slowest "
            f"{stats['slowest_commit_ms']} ms, statements {stats['loop_statement_us_per_write']} µs "
            f"per write on the event loop, {stats.get('groups_waited', 0):,} groups waited for more"
        )
    print(
        f"ratio    durable ÷ bare {median(ratios):.2f} (median of the rounds; each round runs them back to"
        f" back), range {min(ratios):.2f}–{max(ratios):.2f}; hub CPU per order: durable "
        f"{durable['cpu_us']:.0f} µs, bare {bare['cpu_us']:.0f} µs"
    )
    print(
        f"stored   {stored:,} rows for {acknowledged:,} acknowledged"
        " (wrk may count a few unanswered at the end as errors)"
    )


if __name__ == "__main__":
    main()
