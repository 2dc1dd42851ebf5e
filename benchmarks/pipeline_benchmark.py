"""Pipeline benchmark: the whole graph through Dagster at scale, and the daily run.

Prints, on this machine, measured in one run:
- the floor, the least any pipeline on this machine could spend on the same lines: NumPy drawing
  the lines' numbers, one DuckDB `CREATE TABLE AS` that formats the ids, and the daily aggregate;
  plus an empty Dagster job through the CLI on a default instance (start-up and run bookkeeping);
- full pipeline (`dagster job execute -j sales_forecast_job`) on ~10 million order lines (or each
  of `--order-lines`, e.g. `10000000 100000000`): wall time and peak memory (the run process's
  own high-water mark, `measure.run_measured`), its ratio to floor + empty job and to the first
  count's run, and its slowest steps (from the run's event log);
- the daily run (`daily_sales_job` for one new day, plus everything downstream but the backtest)
  with two years already stored;
- the daily run with 1 year and with 4 years of history stored, and their ratio.

Usage: python benchmarks/pipeline_benchmark.py [--order-lines 10000000 [100000000 ...]]
    [--skip-scale] [--skip-daily]
Each scenario uses its own DuckDB file and DAGSTER_HOME under a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import duckdb
import numpy as np
import pandas as pd
from measure import dagster_home, run_measured

from sales_platform import synthetic
from sales_platform.partitions import full_history_tags_json

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
LAST_DAY = date(2025, 10, 31)


EMPTY_JOB = REPO / "benchmarks" / "empty_job.py"


def run_dagster(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Runs a dagster CLI command; returns (wall seconds, its peak RSS in GiB)."""
    return run_measured([DAGSTER, *args], env, REPO)


def scenario_env(folder: Path, start: date, end: date, orders_per_day: float) -> dict[str, str]:
    return {
        **os.environ,
        "DAGSTER_HOME": dagster_home(folder),
        "SALES_DUCKDB_PATH": str(folder / "sales.duckdb"),
        "SALES_HISTORY_START": start.isoformat(),
        "SALES_HISTORY_END": end.isoformat(),
        "SALES_ORDERS_PER_DAY": str(orders_per_day),
    }


def full_run(folder: Path, start: date, end: date, orders_per_day: float) -> tuple[float, float]:
    env = scenario_env(folder, start, end, orders_per_day)
    command = ["job", "execute", "-m", "sales_platform.definitions", "-j", "sales_forecast_job"]
    return run_dagster([*command, "--tags", full_history_tags_json(env)], env)


def daily_run(folder: Path, start: date, day: date, orders_per_day: float, repeats: int) -> float:
    """One new day on top of stored history: the daily job for partition `day`.

    Re-running a partition replaces it, so the run is repeated and the median wall time kept:
    one run on a shared 2-core machine is too noisy for a ratio.
    """
    env = scenario_env(folder, start, day, orders_per_day)
    tags = json.dumps({"dagster/partition": day.isoformat()})
    command = ["job", "execute", "-m", "sales_platform.definitions", "-j", "daily_sales_job"]
    return statistics.median(
        run_dagster([*command, "--tags", tags], env)[0] for _ in range(repeats)
    )


def product_jobs(
    folder: Path, start: date, day: date, orders_per_day: float, repeats: int
) -> float:
    """The products' daily refresh after the daily run: `daily_product_job` (what
    `daily_products_sensor` starts), on top of a `product_forecast_job` over the history before
    `day` (its product backtest is what the daily refresh reads). Median of `repeats` runs."""
    command = ["job", "execute", "-m", "sales_platform.definitions", "-j"]
    run_dagster(
        [*command, "product_forecast_job"],
        scenario_env(folder, start, day - timedelta(1), orders_per_day),
    )
    env = scenario_env(folder, start, day, orders_per_day)
    return statistics.median(
        run_dagster([*command, "daily_product_job"], env)[0] for _ in range(repeats)
    )


def orders_per_day_for(order_lines: int, start: date, end: date) -> float:
    """The SALES_ORDERS_PER_DAY that gives about `order_lines` lines between start and end.

    The shop grows over time, so the rate is scaled from the lines of a default-rate sample.
    """
    sample = len(synthetic.generate_orders(start, end, synthetic.ShopConfig(orders_per_day=1400.0)))
    return 1400.0 * order_lines / sample


def floor_seconds(folder: Path, order_lines: int, days: int) -> float:
    """The floor: draw `order_lines` lines' numbers with NumPy, store them with formatted ids in one
    DuckDB `CREATE TABLE AS`, and aggregate them per day: no Dagster, no demand model."""
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    n_orders = int(order_lines / 1.6)
    order = np.sort(rng.integers(0, n_orders, order_lines))
    lines = pd.DataFrame(
        {
            "day": (order * days // n_orders).astype(np.int32),
            "order_number": order,
            "customer": rng.integers(0, 20_000, order_lines, dtype=np.int32),
            "product": rng.integers(0, 250, order_lines, dtype=np.int32),
            "quantity": 1 + rng.poisson(0.5, order_lines).astype(np.int32),
            "unit_price": np.round(rng.uniform(5, 500, order_lines), 2),
        }
    )
    with duckdb.connect(str(folder / "floor.duckdb")) as conn:
        conn.register("lines", lines)
        conn.execute(
            "CREATE TABLE orders AS SELECT strftime(DATE '2024-01-01' + day, '%Y%m%d') || '-' || "
            "lpad(CAST(order_number AS VARCHAR), 7, '0') AS order_id, "
            "DATE '2024-01-01' + day AS order_date, "
            "'C' || lpad(CAST(customer AS VARCHAR), 6, '0') AS customer_id, "
            "'P' || lpad(CAST(product AS VARCHAR), 5, '0') AS product_id, "
            "quantity, unit_price, round(quantity * unit_price, 2) AS amount FROM lines"
        )
        conn.execute(
            "CREATE TABLE daily AS SELECT order_date, sum(amount) AS revenue, "
            "sum(quantity) AS units, count(DISTINCT order_id) AS orders FROM orders GROUP BY ALL"
        )
    return time.perf_counter() - started


def empty_job_seconds(folder: Path) -> float:
    env = {**os.environ, "DAGSTER_HOME": dagster_home(folder, instance_settings=False)}
    return run_dagster(["job", "execute", "-f", str(EMPTY_JOB), "-j", "empty_job"], env)[0]


def step_seconds(folder: Path) -> dict[str, float]:
    """The steps of the scenario's run, from its event log: seconds each, slowest first."""
    import dagster as dg

    home = str(folder / "dagster_home")
    with mock.patch.dict(os.environ, {"DAGSTER_HOME": home}):  # where its event logs are
        instance = dg.DagsterInstance.from_config(home)
    try:
        run = instance.get_runs(limit=1)[0]
        started, seconds = {}, {}
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is None or event.step_key is None:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                started[event.step_key] = record.timestamp
            elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                seconds[event.step_key] = record.timestamp - started[event.step_key]
    finally:
        instance.dispose()
    return dict(sorted(seconds.items(), key=lambda item: -item[1]))


def stored_order_lines(folder: Path) -> int:
    with duckdb.connect(str(folder / "sales.duckdb"), read_only=True) as conn:
        return conn.execute("SELECT count(*) FROM orders").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--order-lines",
        type=int,
        nargs="+",
        default=[10_000_000],
        help="one full run per count, in this order (each with its own peak RSS); the floor is "
        "measured at the first",
    )
    parser.add_argument("--skip-scale", action="store_true", help="only the daily-run figures")
    parser.add_argument("--skip-daily", action="store_true", help="only the scale figures")
    parser.add_argument("--repeats", type=int, default=3, help="daily runs per history length")
    args = parser.parse_args()
    two_years_start = LAST_DAY - timedelta(days=729)

    with tempfile.TemporaryDirectory(prefix="sales_bench_") as tmp:
        root = Path(tmp)
        if not args.skip_scale:
            (root / "floor").mkdir()
            first = args.order_lines[0]
            floor = floor_seconds(root / "floor", first, 730)
            empty = empty_job_seconds(root / "floor")
            print(
                f"floor, {first:,} lines (NumPy + DuckDB CTAS + daily aggregate): {floor:.1f} s; "
                f"empty Dagster job through the CLI: {empty:.1f} s"
            )
            walls = []
            for order_lines in args.order_lines:
                folder = root / f"scale_{order_lines}"
                rate = orders_per_day_for(order_lines, two_years_start, LAST_DAY)
                wall, peak = full_run(folder, two_years_start, LAST_DAY, rate)
                walls.append(wall)
                lines = stored_order_lines(folder)
                print(
                    f"full pipeline, {lines:,} order lines: {wall:.1f} s wall, "
                    f"{peak:.2f} GiB peak RSS; {wall / (floor + empty):.1f} x (floor + empty job), "
                    f"{wall / walls[0]:.1f} x the first run"
                )
                steps = step_seconds(folder)
                print(
                    f"  steps {sum(steps.values()):.1f} s: "
                    + ", ".join(f"{name} {sec:.1f}" for name, sec in list(steps.items())[:6])
                )
        if args.skip_daily:
            return

        daily = {}
        for years in (1, 2, 4):
            folder = root / f"daily_{years}y"
            start = LAST_DAY - timedelta(days=365 * years - 1)
            full_run(folder, start, LAST_DAY - timedelta(days=1), 1400.0)
            daily[years] = daily_run(folder, start, LAST_DAY, 1400.0, args.repeats)
            print(
                f"daily run with {years} year(s) stored: {daily[years]:.1f} s wall "
                f"(median of {args.repeats})"
            )
            if years == 2:
                products = product_jobs(folder, start, LAST_DAY, 1400.0, args.repeats)
                print(
                    f"  then the products' daily refresh: {products:.1f} s wall (median of "
                    f"{args.repeats}); daily run with products {daily[years] + products:.1f} s"
                )
        print(f"daily run ratio 4 years / 1 year: {daily[4] / daily[1]:.2f}")


if __name__ == "__main__":
    main()
