"""Partition scenario run in-process and in a subprocess with a non-UTC ``TZ``.

The test runs it in a worker forked from the storage forkserver with ``TZ`` set (see
``workers.run_partition_scenario_in_tz``); by hand, ``TZ=Asia/Tokyo python -m
sales_platform_tests.storage_helpers.partition_scenario DB`` prints the same JSON.

Two daily-partitioned assets: ``orders_by_date`` on a DATE column and ``orders_by_ts`` on a
timezone-naive TIMESTAMP column whose rows sit on the partition boundaries (00:00:00 and
23:59:59.999999). Every row carries the ``version`` of the run that wrote it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from sales_platform.storage import SalesDuckDBIOManager, read_table
from sales_platform_tests.storage_helpers import workers

DAYS = dg.DailyPartitionsDefinition(start_date="2024-03-08", end_date="2024-03-14")
# 2024-03-10 is the US DST switch: a local-time bug would shift a boundary by an hour there.

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def rows_for(day: dt.date, version: int) -> int:
    return 3 + version + day.day % 3


def build_assets(state: dict[str, Any]) -> list[Any]:
    def frame(context, ts: bool) -> pd.DataFrame:
        window = context.partition_time_window
        start = window.start.date()
        end = window.end.date()
        out = []
        day = start
        while day < end:
            if day.isoformat() not in state.get("empty_days", ()):
                n = rows_for(day, state["version"])
                midnight = pd.Timestamp(day)
                last = midnight + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
                out.append(
                    pd.DataFrame(
                        {
                            "order_id": pd.array(
                                [f"{day}-{i}" for i in range(n)], dtype="string[pyarrow]"
                            ),
                            "order_date": [day] * n,
                            "order_ts": [midnight] + [last] * (n - 1),
                            "version": [state["version"]] * n,
                        }
                    )
                )
            day += dt.timedelta(days=1)
        if not out:
            df = pd.DataFrame(
                {
                    "order_id": pd.array([], dtype="string[pyarrow]"),
                    "order_date": pd.Series([], dtype=object),
                    "order_ts": pd.Series([], dtype="datetime64[ns]"),
                    "version": pd.Series([], dtype="int64"),
                }
            )
        else:
            df = pd.concat(out, ignore_index=True)
        return df.drop(columns=["order_date"]) if ts else df

    policy = dg.BackfillPolicy.single_run()

    @dg.asset(
        partitions_def=DAYS, metadata={"partition_expr": "order_date"}, backfill_policy=policy
    )
    def orders_by_date(context) -> pd.DataFrame:
        return frame(context, ts=False)

    @dg.asset(partitions_def=DAYS, metadata={"partition_expr": "order_ts"}, backfill_policy=policy)
    def orders_by_ts(context) -> pd.DataFrame:
        return frame(context, ts=True)

    @dg.asset(partitions_def=DAYS, metadata={"partition_expr": "order_ts"})
    def loaded_slice(orders_by_ts: pd.DataFrame) -> pd.DataFrame:
        state["loaded"] = sorted({f"{ts:%Y-%m-%d}" for ts in orders_by_ts["order_ts"]}) + [
            str(orders_by_ts["order_ts"].dtype),
            str(len(orders_by_ts)),
        ]
        return orders_by_ts.head(1)

    return [orders_by_date, orders_by_ts, loaded_slice]


def table_state(database: str) -> dict[str, Any]:
    """Per table and day: [version(s), rows, distinct order ids]."""
    out: dict[str, Any] = {}
    for table, col in (("orders_by_date", "order_date"), ("orders_by_ts", "order_ts")):
        df = read_table(database, table)
        days = df[col].dt.strftime("%Y-%m-%d")
        out[table] = {
            day: [sorted(set(g["version"].tolist())), len(g), g["order_id"].nunique()]
            for day, g in df.groupby(days)
        }
    return out


def run(database: str) -> dict[str, Any]:
    state: dict[str, Any] = {"version": 1}
    assets = build_assets(state)
    io = SalesDuckDBIOManager(database=database)
    instance = workers.instance()
    steps: dict[str, Any] = {}

    def materialize(selection, **kwargs) -> None:
        dg.materialize(
            [a for a in assets if a.key.path[-1] in selection],
            resources={"io_manager": io},
            instance=instance,
            run_config=QUIET,
            **kwargs,
        )

    def range_tags(start: str, end: str) -> dict[str, str]:
        return {
            "dagster/asset_partition_range_start": start,
            "dagster/asset_partition_range_end": end,
        }

    # 1. one-run backfill of the whole range
    materialize({"orders_by_date", "orders_by_ts"}, tags=range_tags("2024-03-08", "2024-03-13"))
    steps["backfill"] = table_state(database)
    # 2. re-run one partition (the DST day) with a new version and row count
    state["version"] = 2
    materialize({"orders_by_date", "orders_by_ts"}, partition_key="2024-03-10")
    steps["rerun_one"] = table_state(database)
    # 3. re-run a two-day range
    state["version"] = 3
    materialize({"orders_by_date", "orders_by_ts"}, tags=range_tags("2024-03-11", "2024-03-12"))
    steps["rerun_range"] = table_state(database)
    # 4. a partition that now has no rows
    state["version"] = 4
    state["empty_days"] = {"2024-03-13"}
    materialize({"orders_by_date", "orders_by_ts"}, partition_key="2024-03-13")
    steps["empty_partition"] = table_state(database)
    # 5. a partitioned downstream asset loads exactly its slice
    materialize({"orders_by_ts", "loaded_slice"}, partition_key="2024-03-10")
    steps["loaded_slice"] = state["loaded"]

    conn = duckdb.connect(database, read_only=True)
    try:
        duck_tz = conn.execute("SELECT current_setting('TimeZone')").fetchone()[0]
    except duckdb.Error:
        duck_tz = None
    finally:
        conn.close()
    return {
        "steps": steps,
        "python_tz": list(time.tzname),
        "env_tz": os.environ.get("TZ"),
        "duckdb_tz": duck_tz,
    }


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1])))
