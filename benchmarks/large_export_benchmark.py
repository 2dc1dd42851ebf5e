"""A large export through the file source: the whole job's wall time and peak memory.

    python benchmarks/large_export_benchmark.py [--order-lines 20000000]

Writes one CSV of `--order-lines` lines over two years in a shop's own column names (InvoiceNo,
InvoiceDate, StockCode, Quantity, UnitPrice, CustomerID, Category; 2,000 products, about 1.6
lines an order), then runs `sales_forecast_job` on it through `dagster job execute` with
``SALES_SOURCE=file``, no mapping and no SALES_HISTORY_* (the window comes from the data), on a
fresh DuckDB file and DAGSTER_HOME. Peak memory is the job process's own (`measure.run_measured`;
the run executes in it).

References measured in the same run, after the job: DuckDB reading the same file into a table and
aggregating it per day (the least a loader of this file could spend), and an empty Dagster job
through the CLI.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from measure import dagster_home, run_measured

from sales_platform.partitions import full_history_tags_json

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
DAYS = 731
PRODUCTS = 2_000


def write_export(path: Path, order_lines: int) -> None:
    """Lines sorted by order; an order has one time and one customer, 1 + Poisson(0.6) lines."""
    rng = np.random.default_rng(0)
    n_orders = int(order_lines / 1.6)
    order = np.sort(rng.integers(0, n_orders, order_lines))
    product = rng.integers(0, PRODUCTS, order_lines, dtype=np.int32)
    lines = pd.DataFrame(
        {
            "day": (order * DAYS // n_orders).astype(np.int32),
            "order_number": order,
            "second": rng.integers(8 * 3600, 22 * 3600, n_orders, dtype=np.int32)[order],
            "customer": rng.integers(0, 200_000, n_orders, dtype=np.int32)[order],
            "product": product,
            "quantity": 1 + rng.poisson(0.5, order_lines).astype(np.int32),
        }
    )
    with duckdb.connect() as conn:
        conn.register("lines", lines)
        conn.execute(
            "COPY (SELECT 'INV' || lpad(CAST(order_number AS VARCHAR), 9, '0') AS InvoiceNo, "
            "strftime(TIMESTAMP '2024-01-01' + INTERVAL (day) DAY + INTERVAL (second) SECOND, "
            "'%Y-%m-%d %H:%M:%S') AS InvoiceDate, "
            "'SKU' || lpad(CAST(product AS VARCHAR), 5, '0') AS StockCode, quantity AS Quantity, "
            "round(2 + (product * 37 % 500) / 10.0, 2) AS UnitPrice, "
            "'C' || CAST(customer AS VARCHAR) AS CustomerID, "
            "'Cat' || CAST(product % 12 AS VARCHAR) AS Category "
            f"FROM lines ORDER BY order_number) TO '{path}' (HEADER)"
        )


def run_dagster(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of a dagster CLI command."""
    return run_measured([DAGSTER, *args], env, REPO)


def job_env(folder: Path, export: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALES_")}
    env.update(
        DAGSTER_HOME=dagster_home(folder),
        SALES_DUCKDB_PATH=str(folder / "sales.duckdb"),
        SALES_SOURCE="file",
        SALES_SOURCE_PATH=str(export),
    )
    return env


def duckdb_floor(folder: Path, export: Path) -> float:
    started = time.perf_counter()
    with duckdb.connect(str(folder / "floor.duckdb")) as conn:
        conn.execute(f"CREATE TABLE lines AS FROM read_csv('{export}')")
        conn.execute(
            "CREATE TABLE daily AS SELECT CAST(InvoiceDate AS DATE) AS day, "
            "sum(Quantity * UnitPrice) AS revenue, count(DISTINCT InvoiceNo) AS orders "
            "FROM lines GROUP BY ALL"
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--order-lines", type=int, default=20_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sales_large_export_") as tmp:
        folder = Path(tmp)
        export = folder / "export.csv"
        write_export(export, args.order_lines)
        print(f"export: {args.order_lines:,} lines, {export.stat().st_size / 1e9:.2f} GB of CSV")
        env = job_env(folder / "job", export)
        command = ["job", "execute", "-m", "sales_platform.definitions"]
        command += ["-j", "sales_forecast_job", "--tags", full_history_tags_json(env)]
        wall, peak = run_dagster(command, env)
        with duckdb.connect(env["SALES_DUCKDB_PATH"], read_only=True) as conn:
            stored = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
        print(
            f"whole job through the file source: {wall:.1f} s wall, {peak:.2f} GiB "
            f"({peak * 1.024**3:.2f} GB) peak RSS; {stored:,} order lines stored"
        )
        floor = duckdb_floor(folder, export)
        empty_home = {
            **os.environ,
            "DAGSTER_HOME": dagster_home(folder / "empty", instance_settings=False),
        }
        empty, _ = run_dagster(
            ["job", "execute", "-f", str(REPO / "benchmarks" / "empty_job.py"), "-j", "empty_job"],
            empty_home,
        )
        print(
            f"same run: DuckDB read_csv + daily aggregate {floor:.1f} s, empty Dagster job "
            f"{empty:.1f} s; the job is {wall / (floor + empty):.1f} x their sum"
        )


if __name__ == "__main__":
    main()
