"""Forkserver preload for the storage tests: import and warm up Dagster once.

The first ``dg.materialize`` in a process spends about a second importing Dagster's instance,
storage and execution modules lazily. The kill and concurrency tests fork their worker processes
from a forkserver that imports this module, so each worker starts warm and its writes begin
within milliseconds. The warm-up writes to a throwaway DuckDB file and leaves no connection and
no thread behind (safe to fork).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from sales_platform_tests.storage_helpers import partition_scenario, workers


def warm_up() -> None:
    logging.getLogger("dagster").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        workers.write_version(str(Path(tmp) / "warm.duckdb"), 0)
        workers.check_tables(str(Path(tmp) / "warm.duckdb"))
    assert partition_scenario.DAYS  # imported for the TZ worker


warm_up()
