"""Benchmark of the daily close: journal entry + theoretical usage (+ payroll hours when present).

Runs one location-day (~1,500 checks) and then a chain-day of N locations (default 1,000), the
orders generated location by location by the simulator and dropped after each close, so memory
stays at one location's day. Prints the wall time of the whole run (generation and close
interleave in the workers, so their wall times cannot be told apart), the CPU seconds of each part
summed over the workers (CPU is not wall time: it is not divided by the workers) and peak memory. Usage::

    .venv/bin/python bench/close.py [--locations 1000] [--workers 2] [--seed 7]
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from expediter.catalog.schema import Mappings
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Order
from expediter.operations.accounting.journal import DrawerCount, build_journal
from expediter.operations.inventory.recipes import RecipeBook, book_from_data
from expediter.operations.inventory.usage import theoretical_usage

DAY = date(2026, 11, 27)


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


SIM_DAY = _optional("expediter.sim.day")
SIM_MENU = _optional("expediter.sim.menu")
SIM_LOCATIONS = _optional("expediter.sim.locations")
SIM_STAFF = _optional("expediter.sim.staff")
LABOR_PAY = _optional("expediter.operations.labor.pay")
LABOR_OVERTIME = _optional("expediter.operations.labor.overtime")


def bench_mappings() -> Mappings:
    categories = list(SIM_MENU.CATEGORIES) if SIM_MENU else ["Burgers", "Beer"]
    return Mappings(
        category_accounts={c: f"40{i:02d} {c} Sales" for i, c in enumerate(categories)},
        discount_accounts={"happy hour": "4900 Discounts", "employee meal": "4910 Employee Meals"},
        tender_accounts={
            "card": "1010 Card Clearing",
            "cash": "1000 Cash",
            "marketplace": "1020 Marketplaces",
        },
        accounts={
            "sales_tax": "2100 Sales Tax Payable",
            "tips_payable": "2200 Tips Payable",
            "service_charges": "4500 Service Charges",
            "gift_cards": "2300 Gift Card Liability",
            "cash_over_short": "6900 Cash Over/Short",
            "comps": "4950 Comps",
            "refunds": "4960 Refunds",
            "unpaid_checks": "1200 Unpaid Checks",
        },
    )


_BASICS = {
    "Burgers": [("beef_patty", "1", "each", "1"), ("bun", "1", "each", "1"), ("onion", "1", "oz", "0.8")],
    "Entrees": [("chicken", "8", "oz", "0.9"), ("potato", "6", "oz", "0.85")],
    "Starters": [("fryer_oil", "20", "ml", "1"), ("chicken", "6", "oz", "1")],
    "Salads": [("romaine", "150", "g", "0.75"), ("tomato", "2", "oz", "0.9")],
    "Sides": [("potato", "8", "oz", "0.85")],
    "Desserts": [("ice_cream", "4", "fl_oz", "1")],
}


def bench_recipes() -> RecipeBook:
    """A recipe per simulated menu item (drinks by the bottle/glass), sharing a house sauce."""
    ingredients = {
        name: {"unit": unit, "unit_cost": "0.50", "vendor": "sysco", "case_size": "40", "par": "200"}
        for name, unit in [
            ("beef_patty", "each"), ("bun", "each"), ("onion", "lb"), ("chicken", "lb"), ("potato", "lb"),
            ("fryer_oil", "l"), ("romaine", "kg"), ("tomato", "lb"), ("ice_cream", "gal"), ("mayo", "l"),
            ("bacon", "lb"), ("cheddar", "lb"), ("beverage", "each"),
        ]
    }  # fmt: skip
    recipes: dict[str, Any] = {
        "house_sauce": {
            "batch_quantity": "2",
            "batch_unit": "l",
            "components": [{"ingredient": "mayo", "quantity": "2", "unit": "l"}],
        }
    }
    items = SIM_MENU.restaurant_menu().items if SIM_MENU else []
    for item in items:
        if item.plu is None or item.category == "Gift Cards":
            continue
        basics = _BASICS.get(item.category, [("beverage", "1", "each", "1")])
        components = [{"ingredient": i, "quantity": q, "unit": u, "yield": y} for i, q, u, y in basics]
        if item.category == "Burgers":
            components.append({"recipe": "house_sauce", "quantity": "30", "unit": "ml"})
        recipes[item.id] = {"plu": item.plu, "components": components}
    modifiers = {
        "9001": {"components": [{"ingredient": "bacon", "quantity": "2", "unit": "oz"}]},
        "9002": {"components": [{"ingredient": "cheddar", "quantity": "1", "unit": "oz"}]},
    }
    return book_from_data({"ingredients": ingredients, "recipes": recipes, "modifiers": modifiers})


def _location(number: int) -> Location:
    if SIM_LOCATIONS:
        return SIM_LOCATIONS.sim_location(number)
    return Location(id=f"L{number:03d}", name=f"Bench {number}", timezone="America/New_York")


def _orders(location: Location, seed: int) -> list[Order]:
    if SIM_DAY is None:
        raise SystemExit("expediter.sim.day is not available: nothing to generate orders with")
    return list(SIM_DAY.iter_orders(location, DAY, seed))


def _payroll() -> Callable[[Location, int], int] | None:
    """Payroll hours for the day when the labor package and the simulator's punches exist."""
    if not (LABOR_PAY and LABOR_OVERTIME and SIM_STAFF and hasattr(LABOR_PAY, "labor_for_day")):
        return None

    def run(location: Location, seed: int) -> int:
        punches = SIM_STAFF.simulate_punches(location, DAY, seed)
        return len(LABOR_PAY.labor_for_day(location, DAY, punches, LABOR_OVERTIME.federal()).lines)

    return run


def close_location(number: int, seed: int) -> dict[str, float]:
    """Generate one location's day, then close it; return the timings and sizes."""
    location = _location(number)
    started = time.perf_counter()
    orders = _orders(location, seed + number)
    generated = time.perf_counter()
    drawer = DrawerCount(location_id=location.id, business_date=DAY, counted_cash=Money(250_000))
    entry = build_journal(orders, MAPPINGS, location_id=location.id, business_date=DAY, drawer=drawer)
    journaled = time.perf_counter()
    usage = theoretical_usage(orders, BOOK, location_id=location.id, business_date=DAY)
    used = time.perf_counter()
    payroll = _payroll()
    labor_lines = payroll(location, seed) if payroll else 0
    done = time.perf_counter()
    return {
        "orders": len(orders),
        "journal_lines": len(entry.lines),
        "ingredients": len(usage.usage),
        "labor_lines": labor_lines,
        "generate_s": generated - started,
        "journal_s": journaled - generated,
        "usage_s": used - journaled,
        "payroll_s": done - used,
    }


MAPPINGS = bench_mappings()
BOOK = bench_recipes()


def _chain(count: int, seed: int, workers: int) -> Iterator[dict[str, float]]:
    if workers <= 1:
        for number in range(1, count + 1):
            yield close_location(number, seed)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.starmap(close_location, ((n, seed) for n in range(1, count + 1)), chunksize=8)


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    parts = ["journal", "usage"] + (["payroll hours"] if _payroll() else [])
    print(
        f"parts run: {', '.join(parts)}"
        + ("" if _payroll() else " (payroll skipped: labor package not usable)")
    )

    one = close_location(1, args.seed)
    tracemalloc.start()
    close_location(1, args.seed)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    close_s = one["journal_s"] + one["usage_s"] + one["payroll_s"]
    print(
        f"one location-day: {int(one['orders'])} orders, {int(one['journal_lines'])} journal lines, "
        f"{int(one['ingredients'])} ingredients; generate {one['generate_s']:.3f} s, journal "
        f"{one['journal_s']:.3f} s, usage {one['usage_s']:.3f} s, payroll {one['payroll_s']:.3f} s "
        f"(close {close_s:.3f} s; peak traced memory of generate + close {traced_peak / 2**20:.1f} MiB)"
    )

    started = time.perf_counter()
    totals: dict[str, float] = {}
    for result in _chain(args.locations, args.seed, args.workers):
        for key, value in result.items():
            totals[key] = totals.get(key, 0) + value
    wall = time.perf_counter() - started
    close_cpu = totals["journal_s"] + totals["usage_s"] + totals["payroll_s"]
    peak = max(_peak_mib(resource.RUSAGE_SELF), _peak_mib(resource.RUSAGE_CHILDREN))
    print(
        f"chain-day: {args.locations} locations, {int(totals['orders'])} orders, {args.workers} worker(s): "
        f"wall {wall:.1f} s (generation and close together: the orders are made in memory here, "
        f"bench/group_close.py reads them from a hub database); CPU: generate {totals['generate_s']:.1f} s, "
        f"close {close_cpu:.1f} s (journal {totals['journal_s']:.1f}, usage {totals['usage_s']:.1f}, "
        f"payroll {totals['payroll_s']:.1f}), summed over the workers; peak RSS {peak:.0f} MiB per process"
    )
    target = "met" if wall < 60 else "NOT met"
    print(
        f"target (the close of 1,000 locations under 60 s of wall time, generation included): {target}"
        f" for {args.locations} locations"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
