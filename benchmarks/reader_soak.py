"""Reader soak: the full job in a loop while a reader polls the published forecast.

A reader (what the dashboard does, through `sales_platform.storage.read_table`) reads
`sales_forecast` every 100 ms while `sales_forecast_job` runs again and again on the small profile
against the same DuckDB file. Prints the runs (and how many failed) and the reads (and how many
failed or came back empty).

Usage: python benchmarks/reader_soak.py [--seconds 60] [--interval 0.1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sales_platform import settings, tables
from sales_platform.partitions import full_history_tags_json
from sales_platform.storage import StorageReadError, read_table

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
SMALL_PROFILE = {
    "SALES_HISTORY_START": "2024-07-01",
    "SALES_HISTORY_END": "2025-10-31",
    "SALES_ORDERS_PER_DAY": "200",
}


def run_job(env: dict[str, str]) -> bool:
    command = [DAGSTER, "job", "execute", "-m", "sales_platform.definitions"]
    command += ["-j", "sales_forecast_job", "--tags", full_history_tags_json(env)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
    return done.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sales_soak_") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        database = str(Path(tmp) / "sales.duckdb")
        env = {**os.environ, **SMALL_PROFILE, "DAGSTER_HOME": str(home)}
        env[settings.DUCKDB_PATH_ENV] = database
        if not run_job(env):  # the reader needs a first published forecast
            raise SystemExit("the first run failed")

        runs, failed_runs = 0, 0
        stop = threading.Event()

        def writer() -> None:
            nonlocal runs, failed_runs
            while not stop.is_set():
                runs += 1
                failed_runs += not run_job(env)

        thread = threading.Thread(target=writer)
        thread.start()
        reads, failed_reads, empty_reads, slowest = 0, 0, 0, 0.0
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                rows = len(read_table(database, tables.SALES_FORECAST))
                empty_reads += rows == 0
            except StorageReadError as error:
                failed_reads += 1
                print(f"read failed: {error}", file=sys.stderr)
            reads += 1
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(args.interval)
        stop.set()
        thread.join()
        print(f"{args.seconds:.0f} s of polling every {args.interval * 1000:.0f} ms")
        print(f"job runs: {runs} ({runs - failed_runs} succeeded, {failed_runs} failed)")
        print(
            f"reads: {reads} ({failed_reads} failed, {empty_reads} empty), "
            f"slowest read {slowest:.2f} s"
        )


if __name__ == "__main__":
    main()
