"""A shop's own two-year export (about 19,000 order lines, one CSV file) through the whole job.

    python benchmarks/own_data_benchmark.py

Writes the export with `examples/make_example_orders.py`, then runs `sales_forecast_job` through
`dagster job execute` on a fresh DuckDB file and DAGSTER_HOME, with no SALES_HISTORY_* (the
window comes from the data) and no mapping. The reference is the same job on the synthetic shop
over the same two years at the same number of lines, measured in the same run: a machine's load
moves both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
from make_example_orders import write_example  # noqa: E402
from measure import dagster_home  # noqa: E402

from sales_platform.partitions import full_history_tags_json  # noqa: E402

DAGSTER = str(Path(sys.executable).with_name("dagster"))
START, DAYS = date(2024, 1, 1), 731
TARGET_SECONDS = 60.0


def run_job(folder: Path, **env: str) -> float:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SALES_")}
    environment.update(
        DAGSTER_HOME=dagster_home(folder), SALES_DUCKDB_PATH=str(folder / "sales.duckdb"), **env
    )
    command = [DAGSTER, "job", "execute", "-m", "sales_platform.definitions"]
    command += ["-j", "sales_forecast_job", "--tags", full_history_tags_json(environment)]
    started = time.perf_counter()
    done = subprocess.run(command, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export = folder / "export.csv"
        written = write_example(export, START, DAYS, scale=1.6)
        (folder / "own").mkdir()
        own = run_job(folder / "own", SALES_SOURCE="file", SALES_SOURCE_PATH=str(export))
        (folder / "synthetic").mkdir()
        last_day = date.fromordinal(START.toordinal() + DAYS - 1)
        reference = run_job(
            folder / "synthetic",
            SALES_HISTORY_START=START.isoformat(),
            SALES_HISTORY_END=last_day.isoformat(),
            SALES_ORDERS_PER_DAY=str(round(written["lines"] / DAYS)),
        )
    verdict = "met" if own <= TARGET_SECONDS else "MISSED"
    print(f"own export, {written['lines']:,} lines over {DAYS} days, whole job: {own:.1f} s")
    print(f"  target <= {TARGET_SECONDS:.0f} s: {verdict}")
    print(f"reference: the synthetic shop, same days and lines, same run: {reference:.1f} s")


if __name__ == "__main__":
    main()
