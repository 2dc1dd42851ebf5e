"""Assets and process bodies used by the storage crash/concurrency/TZ tests.

Every table written here carries its version in each row, so a reader can tell whether what it
sees is one complete committed version:

* ``snapshot`` (unpartitioned): version ``v`` has exactly ``snapshot_rows(v)`` rows, all with
  ``version == v``; every 3rd version adds a column and every 5th retypes one, so the kill test
  also hits schema-change replacements.
* ``daily`` (daily partitions on the DATE column ``day``): each run rewrites one partition with
  ``daily_rows(v)`` rows tagged ``v``; a partition never holds two versions.

Odd versions are written as a :class:`FrameStream` of several frames (the path of the order
lines of a long history), even ones as one DataFrame: a kill between two frames of a stream must
leave the previous version too.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import traceback
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from sales_platform.storage import (
    FrameStream,
    SalesDuckDBIOManager,
    pandas_handler,
    query,
    read_table,
)

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-08")
DAY_KEYS = DAYS.get_partition_keys()


def snapshot_rows(version: int) -> int:
    return 20_000 + 1_000 * (version % 7)


def daily_rows(version: int) -> int:
    return 500 + 10 * (version % 11)


def snapshot_frame(version: int) -> pd.DataFrame:
    n = snapshot_rows(version)
    rng = np.random.default_rng(version)
    df = pd.DataFrame(
        {
            "order_id": pd.array([f"o{version}-{i}" for i in range(n)], dtype="string[pyarrow]"),
            "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="s"),
            "value": rng.random(n),
            "version": np.full(n, version, dtype=np.int64),
        }
    )
    if version % 3 == 0:
        df["extra"] = "x"
    if version % 5 == 0:
        df["value"] = df["value"].astype(str)
    return df


def daily_frame(version: int, partition_key: str) -> pd.DataFrame:
    n = daily_rows(version)
    day = dt.date.fromisoformat(partition_key)
    return pd.DataFrame(
        {
            "day": [day] * n,
            "line": np.arange(n, dtype=np.int64),
            "version": np.full(n, version, dtype=np.int64),
        }
    )


def streamed_if_odd(frame: pd.DataFrame, version: int) -> pd.DataFrame | FrameStream:
    """Odd versions: the frame as a stream of four frames, produced lazily, as the write goes."""
    if version % 2 == 0:
        return frame
    step = -(-len(frame) // 4)
    return FrameStream(frame.iloc[i : i + step] for i in range(0, len(frame), step))


def make_assets(version_holder: dict[str, int]) -> list[Any]:
    @dg.asset(name="snapshot")
    def snapshot():
        version = version_holder["v"]
        return streamed_if_odd(snapshot_frame(version), version)

    @dg.asset(name="daily", partitions_def=DAYS, metadata={"partition_expr": "day"})
    def daily(context):
        version = version_holder["v"]
        return streamed_if_odd(daily_frame(version, context.partition_key), version)

    return [snapshot, daily]


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

_INSTANCE: dg.DagsterInstance | None = None


def instance() -> dg.DagsterInstance:
    """One in-memory ephemeral instance per process (creating one per run costs ~0.3 s).

    Created by the forkserver's warm-up and inherited by the forked workers: it is plain memory
    (in-memory SQLite, no threads, no files in use), and the forkserver never touches it again.
    """
    global _INSTANCE
    if _INSTANCE is None:
        _INSTANCE = dg.DagsterInstance.ephemeral()
    return _INSTANCE


# shared multiprocessing Values in the kill-test child (else None): inside handle_output now?
# and how long the last handle_output took
_IN_WRITE = None
_WRITE_SECONDS = None


class _ObservedIOManager(SalesDuckDBIOManager):
    """The real IO manager; flags ``_IN_WRITE`` while ``handle_output`` runs (connect, the
    transaction, close/checkpoint), so the kill test can tell where its kills landed."""

    def create_io_manager(self, context):
        manager = super().create_io_manager(context)
        flag, seconds = _IN_WRITE, _WRITE_SECONDS
        if flag is not None and seconds is not None:
            handle_output = manager.handle_output

            def observed(output_context, obj):
                began = time.monotonic()
                flag.value = 1
                try:
                    return handle_output(output_context, obj)
                finally:
                    flag.value = 0
                    seconds.value = time.monotonic() - began

            manager.handle_output = observed  # type: ignore[method-assign]
        return manager


def write_version(database: str, version: int) -> bool:
    """One run at ``version``: ``snapshot`` and one ``daily`` partition (two transactions)."""
    io = _ObservedIOManager(database=database)
    return dg.materialize(
        make_assets({"v": version}),
        resources={"io_manager": io},
        partition_key=DAY_KEYS[version % len(DAY_KEYS)],
        run_config=QUIET,
        instance=instance(),
        raise_on_error=False,
    ).success


def staging_tables(database: str) -> list[str]:
    """The staging tables a stream's write left in the file (one killed while staging)."""
    staged = query(
        database,
        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?)",
        [pandas_handler.STAGING_PREFIX],
    )
    return sorted(staged["table_name"])


def check_tables(database: str, *, timeout_s: float = 30.0) -> dict[str, Any]:
    """Read both tables through ``read_table``; return versions seen, problems found and the
    staging tables left behind."""
    problems: list[str] = []
    snap = read_table(database, "snapshot", columns=["version"], timeout_s=timeout_s)
    versions = snap["version"].unique().tolist()
    snap_version = None
    if len(snap) == 0:
        problems.append("snapshot is empty")
    elif len(versions) != 1:
        problems.append(f"snapshot mixes versions {versions[:5]}")
    else:
        snap_version = int(versions[0])
        if len(snap) != snapshot_rows(snap_version):
            problems.append(
                f"snapshot v{snap_version} has {len(snap)} rows, expected "
                f"{snapshot_rows(snap_version)}"
            )
    daily = read_table(database, "daily", columns=["day", "version"], timeout_s=timeout_s)
    per_day = daily.groupby("day")["version"].agg(["nunique", "first", "size"])
    for day, row in per_day.iterrows():
        if row["nunique"] != 1:
            problems.append(f"daily {day:%Y-%m-%d} mixes versions")
        elif row["size"] != daily_rows(int(row["first"])):
            problems.append(f"daily {day:%Y-%m-%d} v{row['first']} has {row['size']} rows")
    return {
        "snapshot_version": snap_version,
        "daily_versions": {f"{d:%Y-%m-%d}": int(v) for d, v in per_day["first"].items()},
        "problems": problems,
        "staging_tables": staging_tables(database),
    }


def run_partition_scenario_in_tz(database: str, tz: str, result_queue) -> None:
    """Run :func:`partition_scenario.run` in this (forked) process with the local timezone
    ``tz``: Python's ``time`` and every new DuckDB database pick up ``TZ`` after ``tzset``."""
    from sales_platform_tests.storage_helpers import partition_scenario

    os.environ["TZ"] = tz
    time.tzset()
    try:
        result_queue.put({"ok": True, "result": partition_scenario.run(database)})
    except Exception:  # noqa: BLE001 - reported to the test
        result_queue.put({"ok": False, "error": traceback.format_exc()})


def writer_forever(
    database: str,
    first_version: int,
    attempting,
    committed,
    started,
    run_seconds,
    in_write,
    write_seconds,
) -> None:
    """Kill-test child: write versions first_version, first_version+1, ... until killed.

    Signals ``started`` after its first complete run, having stored that run's duration in
    ``run_seconds``, so the parent can spread its kill over whole runs whatever the machine's
    load; ``in_write``/``write_seconds`` expose when the IO manager writes and for how long.
    """
    global _IN_WRITE, _WRITE_SECONDS
    _IN_WRITE, _WRITE_SECONDS = in_write, write_seconds
    instance()  # not part of the measured write
    version = first_version
    while True:
        began = time.monotonic()
        attempting.value = version
        if not write_version(database, version):
            os._exit(3)  # a failed write is a test failure; the parent sees exitcode 3
        committed.value = version
        if not started.is_set():
            run_seconds.value = time.monotonic() - began
            started.set()
        version += 1


def writer_for(
    database: str, first_version: int, seconds: float, min_writes: int, result_queue, stop
) -> None:
    """Concurrency-test child: write for ``seconds`` and at least ``min_writes`` runs (however
    loaded the machine is), report successes and failures, then tell the readers to stop."""
    ok = failed = 0
    errors: list[str] = []
    version = first_version
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or (ok + failed < min_writes and failed == 0):
        try:
            if write_version(database, version):
                ok += 1
            else:
                failed += 1
        except Exception:  # noqa: BLE001 - counted and reported
            failed += 1
            errors.append(traceback.format_exc(limit=3))
        version += 1
    result_queue.put({"role": "writer", "ok": ok, "failed": failed, "errors": errors[:3]})
    stop.set()


def reader_for(database: str, interval_s: float, hold_s: float, result_queue, stop) -> None:
    """Concurrency-test child: poll both tables until ``stop``; count failed/empty/inconsistent
    reads.

    ``hold_s`` > 0 makes this a slow reader that keeps its read-only connection open that long
    (it blocks the writer meanwhile).
    """
    from sales_platform.storage import read_connection

    reads = failed = bad = 0
    slowest = 0.0
    versions: set[int] = set()
    errors: list[str] = []
    while not stop.is_set():
        began = time.monotonic()
        try:
            if hold_s > 0:
                with read_connection(database) as conn:
                    n = conn.execute("SELECT count(*) FROM snapshot").fetchone()[0]
                    time.sleep(hold_s)
                if n == 0:
                    bad += 1
            else:
                result = check_tables(database)
                if result["problems"]:
                    bad += 1
                    errors.extend(result["problems"][:2])
                if result["snapshot_version"] is not None:
                    versions.add(result["snapshot_version"])
            reads += 1
            slowest = max(slowest, time.monotonic() - began - max(hold_s, 0.0))
        except Exception:  # noqa: BLE001 - counted and reported
            failed += 1
            errors.append(traceback.format_exc(limit=3))
        time.sleep(interval_s)
    result_queue.put(
        {
            "role": "reader",
            "reads": reads,
            "failed": failed,
            "bad": bad,
            "versions": sorted(versions),
            "slowest_s": round(slowest, 3),
            "errors": errors[:3],
        }
    )
